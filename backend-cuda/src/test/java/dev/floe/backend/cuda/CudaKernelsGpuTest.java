package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Probe;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every kernel against a naive scalar reference, on a real device. Skipped, with the probe's reason, where the
 * backend is unavailable (every machine without an NVIDIA GPU of compute capability 8.0+ and a CUDA 13 driver).
 */
class CudaKernelsGpuTest {
    static final Arena ARENA = Arena.ofShared();
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static Probe probe;
    static Backend cuda;

    @BeforeAll
    static void open() {
        probe = new CudaProvider().probe();
        if (probe.available()) cuda = new CudaProvider().open(BackendOptions.DEFAULTS);
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
    }

    /**
     * Skips without a usable device; with {@code -Dfloe.cuda.require=true} (as {@code gpu-check.sh} runs it) an
     * unavailable backend fails instead, so that a GPU session cannot pass by skipping.
     */
    static void requireGpu() {
        if (Boolean.getBoolean("floe.cuda.require")) {
            assertTrue(probe.available(), "floe.cuda.require is set but the CUDA backend is unavailable: " + probe.detail());
        }
        assumeTrue(probe.available(), "CUDA backend unavailable: " + probe.detail());
    }

    // ---- helpers

    static float[] random(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    /** A tensor of {@code dtype} holding {@code values} (rounded to the format), with an optional scale. */
    static TensorData tensor(String name, DType dtype, long[] shape, float[] values, float[] scale) {
        MemorySegment seg = ARENA.allocate((long) values.length * dtype.bytes(), 16);
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, v);
                case F16 -> seg.setAtIndex(I16, i, FloatFormats.floatToF16(v));
                case BF16 -> seg.setAtIndex(I16, i, FloatFormats.floatToBf16(v));
                case F8_E4M3 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE4m3(v, true));
                case F8_E5M2 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE5m2(v, true));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        TensorData s = scale == null ? null : tensor(name + ".scale", DType.F32, new long[]{scale.length}, scale, null);
        return new TensorData(name, dtype, shape, seg, s);
    }

    Buffer upload(float[] v) {
        Buffer b = cuda.allocate(v.length);
        cuda.upload(v, 0, b, 0, v.length);
        return b;
    }

    float[] download(Buffer b, int n) {
        float[] out = new float[n];
        cuda.download(b, 0, out, 0, n);
        return out;
    }

    static void close(float[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what);
        double maxAbs = 1e-6;
        for (float e : expected) maxAbs = Math.max(maxAbs, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * maxAbs;
            int at = i;
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    () -> what + "[" + at + "]: expected " + expected[at] + " got " + actual[at] + " (tolerance " + tol + ")");
        }
    }

    // ---- tests

    @Test
    void uploadDownloadRoundTripAndZeroFill() {
        requireGpu();
        Buffer b = cuda.allocate(1000);
        float[] z = download(b, 1000);
        assertArrayEquals(new float[1000], z);
        float[] v = random(new Random(1), 300, 1f);
        cuda.upload(v, 100, b, 500, 200);
        float[] back = new float[200];
        cuda.download(b, 500, back, 0, 200);
        assertArrayEquals(Arrays.copyOfRange(v, 100, 300), back);
        assertThrows(IllegalArgumentException.class, () -> cuda.upload(v, 0, b, 900, 200));
        b.close();
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
    void embed(DType dtype) {
        requireGpu();
        Random r = new Random(2);
        int rows = 37, cols = 72;
        float[] scale = dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2 ? random(r, rows, 0.1f) : null;
        TensorData t = tensor("emb", dtype, new long[]{rows, cols}, random(r, rows * cols, 1f), scale);
        float[] table = FloatFormats.toFloats(t);
        int[] ids = {3, 0, 36, 3, 17};
        try (Weight w = cuda.weight(t); Buffer out = cuda.allocate(ids.length * cols)) {
            cuda.embed(w, ids, out);
            float[] expected = new float[ids.length * cols];
            for (int i = 0; i < ids.length; i++) System.arraycopy(table, ids[i] * cols, expected, i * cols, cols);
            assertArrayEquals(expected, download(out, expected.length), dtype.toString());
            assertThrows(IllegalArgumentException.class, () -> cuda.embed(w, new int[]{37}, out));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void rmsNorm(DType dtype) {
        requireGpu();
        Random r = new Random(3);
        int rows = 5, dim = 1000;
        float[] x = random(r, rows * dim, 2f);
        TensorData wt = tensor("norm", dtype, new long[]{dim}, random(r, dim, 1f), null);
        float[] w = FloatFormats.toFloats(wt);
        float[] expected = new float[rows * dim];
        for (int i = 0; i < rows; i++) {
            double ss = 0;
            for (int c = 0; c < dim; c++) ss += (double) x[i * dim + c] * x[i * dim + c];
            double inv = 1 / Math.sqrt(ss / dim + 1e-5);
            for (int c = 0; c < dim; c++) expected[i * dim + c] = (float) (w[c] * x[i * dim + c] * inv);
        }
        try (Weight wd = cuda.weight(wt); Buffer xb = upload(x)) {
            cuda.rmsNorm(xb, wd, 1e-5f, rows, dim, xb); // in place: out aliases x
            close(expected, download(xb, rows * dim), 1e-5, "rmsNorm " + dtype);
        }
    }

    /** Rows up to 64 take the matvec kernel, more the tiled GEMM kernel. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 8, 9, 64, 100, 300})
    void matmulAllFormats(int rows) {
        requireGpu();
        for (DType dtype : new DType[]{DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2}) {
            for (int cols : new int[]{256, 200, 75}) {
                Random r = new Random(rows * 31 + cols);
                int outRows = 96;
                boolean fp8 = dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2;
                float[] scale = fp8 ? random(r, outRows, 0.05f) : null;
                if (scale != null) for (int i = 0; i < scale.length; i++) scale[i] = Math.abs(scale[i]) + 0.01f;
                TensorData t = tensor("w", dtype, new long[]{outRows, cols}, random(r, outRows * cols, fp8 ? 20f : 0.1f), scale);
                float[] w = FloatFormats.toFloats(t);
                float[] x = random(r, rows * cols, 1f);
                float[] expected = new float[rows * outRows];
                for (int i = 0; i < rows; i++) {
                    for (int o = 0; o < outRows; o++) {
                        double s = 0;
                        for (int c = 0; c < cols; c++) s += (double) x[i * cols + c] * w[o * cols + c];
                        expected[i * outRows + o] = (float) s;
                    }
                }
                try (Weight wd = cuda.weight(t); Buffer xb = upload(x); Buffer out = cuda.allocate(rows * outRows)) {
                    cuda.matmul(xb, rows, wd, out);
                    close(expected, download(out, expected.length), 1e-4, "matmul " + dtype + " rows=" + rows + " cols=" + cols);
                }
            }
        }
    }

    /**
     * With {@code cuda.prefill=cublaslt}, prefill GEMMs of BF16 and E4M3 weights go to cuBLASLt: activations are
     * rounded to BF16 (relative error 2^-9) or quantised per tensor to E4M3 (2^-4), hence the coarser tolerances.
     */
    @Test
    void prefillThroughCublasLt() {
        requireGpu();
        assumeTrue(CublasLt.lookup() instanceof CublasLt.Available, () -> ((CublasLt.Unavailable) CublasLt.lookup()).reason());
        try (Backend lt = new CudaProvider().open(new BackendOptions(0, java.util.Map.of("cuda.prefill", "cublaslt")))) {
            assertTrue(lt.device().contains("libcublasLt.so.13"), lt.device());
            for (DType dtype : new DType[]{DType.BF16, DType.F8_E4M3}) {
                for (boolean rowScales : new boolean[]{false, true}) {
                    Random r = new Random(dtype.ordinal() * 2 + (rowScales ? 1 : 0));
                    int rows = 130, outRows = 96, cols = 256;
                    boolean fp8 = dtype == DType.F8_E4M3;
                    float[] scale = fp8 ? (rowScales ? random(r, outRows, 0.05f) : new float[]{0.02f}) : null;
                    if (scale != null) for (int i = 0; i < scale.length; i++) scale[i] = Math.abs(scale[i]) + 0.01f;
                    TensorData t = tensor("w", dtype, new long[]{outRows, cols}, random(r, outRows * cols, fp8 ? 20f : 0.1f), scale);
                    float[] w = FloatFormats.toFloats(t);
                    float[] x = random(r, rows * cols, 1f);
                    float[] expected = new float[rows * outRows];
                    for (int i = 0; i < rows; i++) {
                        for (int o = 0; o < outRows; o++) {
                            double s = 0;
                            for (int c = 0; c < cols; c++) s += (double) x[i * cols + c] * w[o * cols + c];
                            expected[i * outRows + o] = (float) s;
                        }
                    }
                    try (Weight wd = lt.weight(t); Buffer xb = lt.allocate(x.length); Buffer out = lt.allocate(expected.length)) {
                        lt.upload(x, 0, xb, 0, x.length);
                        lt.matmul(xb, rows, wd, out);
                        float[] got = new float[expected.length];
                        lt.download(out, 0, got, 0, got.length);
                        close(expected, got, fp8 ? 0.08 : 0.01, "cuBLASLt " + dtype + (rowScales ? " row scales" : ""));
                    }
                }
            }
        }
    }

    @Test
    void rope() {
        requireGpu();
        Random r = new Random(4);
        int rows = 3, heads = 4, hd = 64;
        float[] x = random(r, rows * heads * hd, 1f);
        int[] pos = {0, 7, 5000};
        float theta = 10000f;
        float[] expected = x.clone();
        for (int i = 0; i < rows; i++) {
            for (int h = 0; h < heads; h++) {
                int base = (i * heads + h) * hd;
                for (int j = 0; j < hd / 2; j++) {
                    double a = pos[i] * Math.pow(theta, -2.0 * j / hd);
                    float c = (float) Math.cos(a), s = (float) Math.sin(a);
                    float u = x[base + j], v = x[base + j + hd / 2];
                    expected[base + j] = u * c - v * s;
                    expected[base + j + hd / 2] = v * c + u * s;
                }
            }
        }
        try (Buffer xb = upload(x)) {
            cuda.rope(xb, rows, heads, hd, pos, theta);
            close(expected, download(xb, x.length), 1e-5, "rope");
        }
    }

    /** GQA (8 query heads over 2 KV heads), two sequences with scattered blocks, causal masking per row. */
    @Test
    void storeKvAndPagedAttention() {
        requireGpu();
        Random r = new Random(5);
        int kvHeads = 2, heads = 8, hd = 128, blockSize = 4;
        KvLayout layout = new KvLayout(2, kvHeads, hd, 16, blockSize);
        int[][] tables = {{5, 2, 9}, {0, 11}};
        int[] lens = {11, 6};
        int width = kvHeads * hd;
        float[][] keys = new float[2][], values = new float[2][];
        try (KvCache cache = cuda.kvCache(layout)) {
            for (int s = 0; s < 2; s++) {
                keys[s] = random(r, lens[s] * width, 1f);
                values[s] = random(r, lens[s] * width, 1f);
                int[] slots = new int[lens[s]];
                for (int p = 0; p < lens[s]; p++) slots[p] = tables[s][p / blockSize] * blockSize + p % blockSize;
                try (Buffer k = upload(keys[s]); Buffer v = upload(values[s])) {
                    cuda.storeKv(cache, 1, k, v, lens[s], slots);
                }
            }
            int[] positions = {10, 3, 5, 0};
            int[] sequence = {0, 0, 1, 1};
            float[] q = random(r, positions.length * heads * hd, 1f);
            float[] expected = new float[q.length];
            for (int row = 0; row < positions.length; row++) {
                int s = sequence[row];
                for (int h = 0; h < heads; h++) {
                    int kvh = h / (heads / kvHeads);
                    double[] score = new double[positions[row] + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p <= positions[row]; p++) {
                        double d = 0;
                        for (int c = 0; c < hd; c++) d += q[(row * heads + h) * hd + c] * keys[s][p * width + kvh * hd + c];
                        score[p] = d / Math.sqrt(hd);
                        max = Math.max(max, score[p]);
                    }
                    double sum = 0;
                    for (int p = 0; p <= positions[row]; p++) sum += score[p] = Math.exp(score[p] - max);
                    for (int c = 0; c < hd; c++) {
                        double o = 0;
                        for (int p = 0; p <= positions[row]; p++) o += score[p] * values[s][p * width + kvh * hd + c];
                        expected[(row * heads + h) * hd + c] = (float) (o / sum);
                    }
                }
            }
            try (Buffer qb = upload(q); Buffer out = cuda.allocate(q.length)) {
                cuda.attention(qb, cache, 1, new AttentionBatch(heads, positions, sequence, tables), out);
                close(expected, download(out, q.length), 1e-4, "attention");
            }
        }
    }

    /** A decode row over 1500 keys: the kernel splits the key range (flash-decoding) and combines the splits. */
    @Test
    void longContextAttention() {
        requireGpu();
        Random r = new Random(9);
        int kvHeads = 1, heads = 4, hd = 64, blockSize = 16, len = 1500;
        KvLayout layout = new KvLayout(1, kvHeads, hd, 100, blockSize);
        int[] table = new int[94];
        for (int i = 0; i < table.length; i++) table[i] = (i * 37) % 100;
        float[] keys = random(r, len * hd, 1f), values = random(r, len * hd, 1f);
        int[] slots = new int[len];
        for (int p = 0; p < len; p++) slots[p] = table[p / blockSize] * blockSize + p % blockSize;
        int[] positions = {len - 1};
        float[] q = random(r, heads * hd, 1f);
        float[] expected = new float[q.length];
        for (int h = 0; h < heads; h++) {
            double[] score = new double[len];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int p = 0; p < len; p++) {
                double d = 0;
                for (int c = 0; c < hd; c++) d += q[h * hd + c] * keys[p * hd + c];
                score[p] = d / Math.sqrt(hd);
                max = Math.max(max, score[p]);
            }
            for (int p = 0; p < len; p++) sum += score[p] = Math.exp(score[p] - max);
            for (int c = 0; c < hd; c++) {
                double o = 0;
                for (int p = 0; p < len; p++) o += score[p] * values[p * hd + c];
                expected[h * hd + c] = (float) (o / sum);
            }
        }
        try (KvCache cache = cuda.kvCache(layout); Buffer k = upload(keys); Buffer v = upload(values);
             Buffer qb = upload(q); Buffer out = cuda.allocate(q.length)) {
            cuda.storeKv(cache, 0, k, v, len, slots);
            cuda.attention(qb, cache, 0, AttentionBatch.single(heads, positions, table), out);
            close(expected, download(out, q.length), 1e-4, "long-context attention");
        }
    }

    @Test
    void elementwiseAndRows() {
        requireGpu();
        Random r = new Random(6);
        int n = 1000;
        float[] a = random(r, n, 3f), b = random(r, n, 1f);
        float[] silu = new float[n], sum = new float[n];
        for (int i = 0; i < n; i++) {
            silu[i] = (float) (a[i] / (1 + Math.exp(-a[i])) * b[i]);
            sum[i] = a[i] + b[i];
        }
        try (Buffer ab = upload(a); Buffer bb = upload(b); Buffer out = cuda.allocate(n)) {
            cuda.swiglu(ab, bb, n, out);
            close(silu, download(out, n), 1e-5, "swiglu");
            cuda.add(ab, bb, n, ab); // out aliases a
            assertArrayEquals(sum, download(ab, n));
        }
        int cols = 50;
        float[] src = random(r, 6 * cols, 1f);
        int[] rows = {4, 1, 4};
        float[] scales = {0.5f, 2f, -1f};
        try (Buffer s = upload(src); Buffer g = cuda.allocate(rows.length * cols); Buffer d = upload(src.clone())) {
            cuda.gatherRows(s, cols, rows, g);
            float[] gathered = download(g, rows.length * cols);
            for (int i = 0; i < rows.length; i++) {
                assertArrayEquals(Arrays.copyOfRange(src, rows[i] * cols, rows[i] * cols + cols),
                        Arrays.copyOfRange(gathered, i * cols, i * cols + cols));
            }
            cuda.scatterAddRows(g, cols, rows, scales, d);
            float[] expected = src.clone();
            for (int i = 0; i < rows.length; i++) {
                for (int c = 0; c < cols; c++) {
                    expected[rows[i] * cols + c] = Math.fma(scales[i], gathered[i * cols + c], expected[rows[i] * cols + c]);
                }
            }
            assertArrayEquals(expected, download(d, src.length));
        }
    }

    @Test
    void memoryAccountingAndForeignBuffers() {
        requireGpu();
        long before = cuda.memoryInUse();
        Buffer b = cuda.allocate(1 << 20);
        assertTrue(cuda.memoryInUse() >= before + (4L << 20));
        b.close();
        b.close(); // idempotent
        assertEquals(before, cuda.memoryInUse());
        assertThrows(IllegalStateException.class, () -> cuda.add(b, b, 1, b));
    }
}
