package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.floe.backend.opencl.OpenClTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Every kernel against a naive double-precision implementation, on seeded random inputs of awkward sizes. */
class KernelTest extends OpenClTest {

    enum Scale { NONE, PER_ROW, SCALAR }

    static Stream<Arguments> weightCases() {
        List<Arguments> cases = new ArrayList<>();
        for (DType t : List.of(DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2)) {
            for (Scale s : Scale.values()) cases.add(Arguments.of(t, s));
        }
        return cases.stream();
    }

    /** A random [rows, cols] weight of {@code dtype}; FP8 values use the format's range, then get a scale. */
    static TensorData randomWeight(Random rnd, String name, DType dtype, Scale scale, int rows, int cols) {
        double range = switch (dtype) {
            case F8_E4M3 -> 400;
            case F8_E5M2 -> 5000;
            default -> 1;
        };
        TensorData t = tensor(name, dtype, new long[]{rows, cols}, random(rnd, rows * cols, range));
        return switch (scale) {
            case NONE -> t;
            case PER_ROW -> {
                float[] s = new float[rows];
                for (int r = 0; r < rows; r++) s[r] = (float) ((0.5 + rnd.nextDouble()) / range);
                yield t.withScale(f32Scale(name + ".scale", s));
            }
            case SCALAR -> t.withScale(f32Scale(name + ".scale", new float[]{(float) (1.5 / range)}));
        };
    }

    @ParameterizedTest
    @MethodSource("weightCases")
    void embedCopiesTheDequantisedRows(DType dtype, Scale scale) {
        Random rnd = new Random(11 + dtype.ordinal() * 7L + scale.ordinal());
        int vocab = 19;
        int cols = 37;
        TensorData table = randomWeight(rnd, "embed", dtype, scale, vocab, cols);
        int[] ids = {3, 0, 18, 3, 7};
        try (Weight w = backend.weight(table); Buffer out = backend.allocate((long) ids.length * cols)) {
            backend.embed(w, ids, out);
            float[] got = download(backend, out, ids.length * cols);
            for (int r = 0; r < ids.length; r++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals((float) value(table, (long) ids[r] * cols + c), got[r * cols + c],
                            "row " + r + " col " + c);
                }
            }
        }
    }

    /** Every code of a 16-bit or 8-bit format decodes exactly as FloatFormats does (subnormals, infinities, NaN). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16", "F8_E4M3", "F8_E5M2"})
    void decodesEveryCodeExactly(DType dtype) {
        int codes = dtype.bytes() == 2 ? 1 << 16 : 1 << 8;
        var data = java.lang.foreign.MemorySegment.ofArray(new byte[codes * dtype.bytes()]);
        for (int c = 0; c < codes; c++) {
            if (dtype.bytes() == 2) data.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, c, (short) c);
            else data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, c, (byte) c);
        }
        TensorData table = new TensorData("codes", dtype, new long[]{1, codes}, data, null);
        try (Weight w = backend.weight(table); Buffer out = backend.allocate(codes)) {
            backend.embed(w, new int[]{0}, out);
            float[] got = download(backend, out, codes);
            for (int c = 0; c < codes; c++) {
                float want = FloatFormats.read(table, c);
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(got[c]), "code 0x" + Integer.toHexString(c) + " must be NaN: " + got[c]);
                } else {
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[c]),
                            "code 0x" + Integer.toHexString(c) + ": " + want + " vs " + got[c]);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("weightCases")
    void matmulMatchesTheDoubleOracle(DType dtype, Scale scale) {
        Random rnd = new Random(23 + dtype.ordinal() * 5L + scale.ordinal());
        for (int[] size : new int[][]{{1, 37, 5}, {3, 259, 33}, {9, 130, 7}, {17, 64, 3}, {2, 256, 9}, {1, 4, 1}}) {
            int rows = size[0];
            int cols = size[1];
            int outRows = size[2];
            TensorData wt = randomWeight(rnd, "w", dtype, scale, outRows, cols);
            float[] x = random(rnd, rows * cols, 2);
            try (Weight w = backend.weight(wt); Buffer xb = upload(backend, x);
                 Buffer out = backend.allocate((long) rows * outRows)) {
                backend.matmul(xb, rows, w, out);
                float[] got = download(backend, out, rows * outRows);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < outRows; o++) {
                        double sum = 0;
                        double magnitude = 0;
                        for (int i = 0; i < cols; i++) {
                            double term = x[r * cols + i] * value(wt, (long) o * cols + i);
                            sum += term;
                            magnitude += Math.abs(term);
                        }
                        assertEquals(sum, got[r * outRows + o], 2e-6 * magnitude + 1e-6,
                                dtype + " " + rows + "x" + cols + "x" + outRows + " at [" + r + "][" + o + "]");
                    }
                }
            }
        }
    }

    @Test
    void matmulReadsAnOffHeapWeight() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            TensorData wt = offHeap(randomWeight(rnd, "w", DType.BF16, Scale.PER_ROW, 6, 45), arena);
            float[] x = random(rnd, 45, 1);
            try (Weight w = backend.weight(wt); Buffer xb = upload(backend, x); Buffer out = backend.allocate(6)) {
                backend.matmul(xb, 1, w, out);
                float[] got = download(backend, out, 6);
                for (int o = 0; o < 6; o++) {
                    double sum = 0;
                    for (int i = 0; i < 45; i++) sum += x[i] * value(wt, o * 45L + i);
                    assertEquals(sum, got[o], 1e-5, "row " + o);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("weightCases")
    void rmsNormMatchesTheDoubleOracle(DType dtype, Scale scale) {
        Random rnd = new Random(31 + dtype.ordinal() * 3L + scale.ordinal());
        for (int dim : new int[]{37, 515}) {
            int rows = 3;
            TensorData wt = randomWeight(rnd, "norm", dtype, scale == Scale.PER_ROW ? Scale.SCALAR : scale, 1, dim);
            wt = new TensorData(wt.name(), wt.dtype(), new long[]{dim}, wt.data(), wt.scale());
            float[] x = random(rnd, rows * dim, 3);
            float eps = 1e-5f;
            try (Weight w = backend.weight(wt); Buffer xb = upload(backend, x); Buffer out = backend.allocate(rows * dim)) {
                backend.rmsNorm(xb, w, eps, rows, dim, out);
                float[] got = download(backend, out, rows * dim);
                backend.rmsNorm(xb, w, eps, rows, dim, xb);   // in place
                float[] inPlace = download(backend, xb, rows * dim);
                for (int r = 0; r < rows; r++) {
                    double ss = 0;
                    for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
                    double inv = 1 / Math.sqrt(ss / dim + eps);
                    for (int i = 0; i < dim; i++) {
                        double want = value(wt, i) * x[r * dim + i] * inv;
                        assertEquals(want, got[r * dim + i], 1e-5 * Math.abs(want) + 1e-6, "row " + r + " i " + i);
                        assertEquals(got[r * dim + i], inPlace[r * dim + i], "in place, row " + r + " i " + i);
                    }
                }
            }
        }
    }

    @Test
    void ropeRotatesHalvesByPositionAngles() {
        Random rnd = new Random(41);
        int rows = 4;
        int heads = 3;
        int headDim = 10;
        int[] positions = {0, 5, 17, 4093};
        float theta = 10000f;
        float[] x = random(rnd, rows * heads * headDim, 1);
        try (Buffer xb = upload(backend, x)) {
            backend.rope(xb, rows, heads, headDim, positions, theta);
            float[] got = download(backend, xb, x.length);
            int half = headDim / 2;
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < heads; h++) {
                    int base = (r * heads + h) * headDim;
                    for (int j = 0; j < half; j++) {
                        double angle = positions[r] * Math.pow(theta, -2.0 * j / headDim);
                        double a = x[base + j];
                        double b = x[base + j + half];
                        assertEquals(a * Math.cos(angle) - b * Math.sin(angle), got[base + j], 1e-6);
                        assertEquals(b * Math.cos(angle) + a * Math.sin(angle), got[base + j + half], 1e-6);
                    }
                }
            }
        }
    }

    /** A paged cache with shuffled blocks, filled through storeKv, plus the host copy the oracle reads. */
    private record Filled(KvCache cache, float[][] keys, float[][] values) {
    }

    private static Filled fill(Random rnd, KvLayout layout, int layer, int[][] tables, int[] lengths) {
        KvCache cache = backend.kvCache(layout);
        int width = layout.rowWidth();
        float[][] keys = new float[(int) layout.slots()][];
        float[][] values = new float[(int) layout.slots()][];
        for (int s = 0; s < tables.length; s++) {
            int n = lengths[s];
            int[] slots = new int[n];
            float[] k = random(rnd, n * width, 1);
            float[] v = random(rnd, n * width, 1);
            for (int p = 0; p < n; p++) {
                slots[p] = tables[s][p / layout.blockSize()] * layout.blockSize() + p % layout.blockSize();
                keys[slots[p]] = java.util.Arrays.copyOfRange(k, p * width, (p + 1) * width);
                values[slots[p]] = java.util.Arrays.copyOfRange(v, p * width, (p + 1) * width);
            }
            try (Buffer kb = upload(backend, k); Buffer vb = upload(backend, v)) {
                backend.storeKv(cache, layer, kb, vb, n, slots);
            }
        }
        return new Filled(cache, keys, values);
    }

    private static double[] oracle(float[] q, Filled f, KvLayout layout, AttentionBatch batch) {
        int heads = batch.heads();
        int hd = layout.headDim();
        double[] out = new double[batch.rows() * heads * hd];
        for (int r = 0; r < batch.rows(); r++) {
            for (int h = 0; h < heads; h++) {
                int kvh = h / (heads / layout.kvHeads());
                int pos = batch.position(r);
                double[] scores = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    int slot = batch.slot(batch.sequenceOf(r), p, layout.blockSize());
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) q[(r * heads + h) * hd + d] * f.keys()[slot][kvh * hd + d];
                    scores[p] = s / Math.sqrt(hd);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) sum += scores[p] = Math.exp(scores[p] - max);
                for (int p = 0; p <= pos; p++) {
                    int slot = batch.slot(batch.sequenceOf(r), p, layout.blockSize());
                    for (int d = 0; d < hd; d++) {
                        out[(r * heads + h) * hd + d] += scores[p] / sum * f.values()[slot][kvh * hd + d];
                    }
                }
            }
        }
        return out;
    }

    private static void checkAttention(Random rnd, KvLayout layout, int layer, int heads, int[][] tables, int[] lengths,
                                       int[] positions, int[] sequence, long scratchLimit) {
        Filled f = fill(rnd, layout, layer, tables, lengths);
        AttentionBatch batch = new AttentionBatch(heads, positions, sequence, tables);
        int n = batch.rows() * heads * layout.headDim();
        float[] q = random(rnd, n, 2);
        ((OpenClBackend) backend).scoreScratchLimit(scratchLimit);
        try (KvCache cache = f.cache(); Buffer qb = upload(backend, q); Buffer out = backend.allocate(n)) {
            backend.attention(qb, cache, layer, batch, out);
            float[] got = download(backend, out, n);
            double[] want = oracle(q, f, layout, batch);
            for (int i = 0; i < n; i++) assertEquals(want[i], got[i], 2e-5, "element " + i);
        } finally {
            ((OpenClBackend) backend).scoreScratchLimit(32L << 20);
        }
    }

    @Test
    void attentionOverPagedCacheWithGqaAndSeveralSequences() {
        Random rnd = new Random(53);
        KvLayout layout = new KvLayout(2, 2, 12, 16, 4);
        int[][] tables = {{7, 2, 9, 0}, {5, 11, 3, 14, 1}};
        int[] lengths = {10, 18};
        // Sequence 0 prefills positions 0..9 causally; sequence 1 decodes at 17 and re-reads at 4.
        int[] positions = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 4};
        int[] sequence = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
        checkAttention(rnd, layout, 1, 6, tables, lengths, positions, sequence, 32L << 20);
    }

    @Test
    void attentionWithAHeadDimThatIsNotAMultipleOfFour() {
        Random rnd = new Random(57);
        KvLayout layout = new KvLayout(1, 3, 10, 6, 5);
        int[][] tables = {{4, 1}, {0, 5, 2}};
        checkAttention(rnd, layout, 0, 6, tables, new int[]{7, 13}, new int[]{6, 12, 0, 3}, new int[]{0, 1, 1, 0},
                32L << 20);
    }

    @Test
    void attentionWithLongContextAndWideHeads() {
        Random rnd = new Random(59);
        KvLayout layout = new KvLayout(1, 2, 128, 40, 16);
        int[][] tables = {java.util.stream.IntStream.range(0, 40).map(i -> 39 - i).toArray()};
        checkAttention(rnd, layout, 0, 8, tables, new int[]{600}, new int[]{599, 300, 0}, new int[]{0, 0, 0}, 32L << 20);
    }

    @Test
    void attentionSplitsRowsWhenTheScoreScratchIsSmall() {
        Random rnd = new Random(61);
        KvLayout layout = new KvLayout(1, 1, 8, 8, 8);
        int[][] tables = {{3, 1, 0, 2}, {4, 6}};
        int[] positions = {0, 5, 31, 12, 15, 2, 30};
        int[] sequence = {0, 0, 0, 1, 1, 0, 0};
        checkAttention(rnd, layout, 0, 4, tables, new int[]{32, 16}, positions, sequence, 100);
    }

    @Test
    void swigluAndAddElementwiseIncludingAliases() {
        Random rnd = new Random(67);
        int n = 1001;
        float[] g = random(rnd, n, 6);
        float[] u = random(rnd, n, 2);
        try (Buffer gb = upload(backend, g); Buffer ub = upload(backend, u); Buffer out = backend.allocate(n)) {
            backend.swiglu(gb, ub, n, out);
            float[] s = download(backend, out, n);
            backend.add(gb, ub, n, out);
            float[] sum = download(backend, out, n);
            backend.swiglu(gb, ub, n, gb);  // out aliases gate
            float[] aliased = download(backend, gb, n);
            backend.add(ub, ub, n, ub);     // out aliases both
            float[] doubled = download(backend, ub, n);
            for (int i = 0; i < n; i++) {
                double want = g[i] / (1 + Math.exp(-g[i])) * u[i];
                assertEquals(want, s[i], 2e-6 * Math.abs(want) + 1e-7, "swiglu " + i);
                assertEquals(s[i], aliased[i], "aliased swiglu " + i);
                assertEquals(g[i] + u[i], sum[i], "add " + i);
                assertEquals(u[i] + u[i], doubled[i], "aliased add " + i);
            }
        }
    }

    @Test
    void gatherAndScatterAddRowsInOrderWithRepeats() {
        Random rnd = new Random(71);
        int cols = 13;
        float[] src = random(rnd, 6 * cols, 1);
        float[] dst0 = random(rnd, 5 * cols, 1);
        int[] rows = {4, 0, 4, 2};
        float[] scales = {0.5f, -1.25f, 2f, 0.75f};
        try (Buffer s = upload(backend, src); Buffer gathered = backend.allocate(rows.length * cols);
             Buffer d = upload(backend, dst0)) {
            backend.gatherRows(s, cols, rows, gathered);
            float[] g = download(backend, gathered, rows.length * cols);
            backend.scatterAddRows(gathered, cols, rows, scales, d);
            float[] got = download(backend, d, 5 * cols);
            float[] want = dst0.clone();
            for (int i = 0; i < rows.length; i++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(src[rows[i] * cols + c], g[i * cols + c], "gathered " + i + "," + c);
                    want[rows[i] * cols + c] += scales[i] * g[i * cols + c];
                }
            }
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6, "scatter " + i);
        }
    }

    /** Parameter arrays that fill the staging ring several times over, and one larger than the ring. */
    @Test
    void kernelParametersSurviveRingWrapAndGrowth() {
        Random rnd = new Random(73);
        int cols = 1;
        float[] src = random(rnd, 97, 1);
        int calls = 12;
        int n = 60_000;   // 240 kB of indices per call: the 1 MiB ring wraps while earlier calls are still queued
        try (Buffer s = upload(backend, src)) {
            List<Buffer> outs = new ArrayList<>();
            List<int[]> indices = new ArrayList<>();
            for (int c = 0; c < calls; c++) {
                int[] rows = rnd.ints(c == calls - 1 ? 400_000 : n, 0, 97).toArray();   // the last one grows the ring
                Buffer out = backend.allocate(rows.length);
                backend.gatherRows(s, cols, rows, out);
                outs.add(out);
                indices.add(rows);
            }
            for (int c = 0; c < calls; c++) {
                int[] rows = indices.get(c);
                float[] got = download(backend, outs.get(c), rows.length);
                for (int i = 0; i < rows.length; i++) assertEquals(src[rows[i]], got[i], "call " + c + " row " + i);
                outs.get(c).close();
            }
        }
    }

    @Test
    void largeUploadsGoStraightToTheBuffer() {
        Random rnd = new Random(79);
        float[] big = random(rnd, 300_000, 1);
        try (Buffer b = backend.allocate(big.length + 3)) {
            backend.upload(big, 0, b, 3, big.length);
            float[] got = new float[big.length];
            backend.download(b, 3, got, 0, big.length);
            assertArrayEquals(big, got);
        }
    }

    @Test
    void uploadAndDownloadHonourOffsets() {
        try (Buffer b = backend.allocate(10)) {
            assertArrayEquals(new float[10], download(backend, b, 10), "allocate zero-fills");
            backend.upload(new float[]{9, 1, 2, 3, 9}, 1, b, 4, 3);
            float[] out = new float[6];
            backend.download(b, 3, out, 1, 4);
            assertArrayEquals(new float[]{0, 0, 1, 2, 3, 0}, out);
        }
    }

    @Test
    void memoryInUseFollowsAllocationsAndClose() {
        long before = backend.memoryInUse();
        Buffer b = backend.allocate(1000);
        KvCache c = backend.kvCache(new KvLayout(2, 1, 4, 3, 2));
        Weight w = backend.weight(tensor("w", DType.BF16, new long[]{4, 6}, new float[24]));
        long expected = 4000 + c.layout().byteSize() + w.byteSize();
        assertEquals(before + expected, backend.memoryInUse());
        assertEquals(24 * 2 + 4, w.byteSize(), "bf16 data plus one scale");
        b.close();
        b.close();
        c.close();
        w.close();
        assertEquals(before, backend.memoryInUse());
        assertThrows(IllegalStateException.class, () -> backend.add(b, b, 1, b));
    }

    /** One-row matmuls run matvec.cl's kernels: every FP8 E4M3 code through its branch-free decoder. */
    @Test
    void matvecDecodesEveryE4m3CodeAsFloatFormats() {
        byte[] codes = new byte[256];
        for (int c = 0; c < 256; c++) codes[c] = (byte) c;
        // 64 rows of 4 codes: the vector path; x one-hot in column j picks code 4 r + j of each row
        TensorData t = new TensorData("codes", DType.F8_E4M3, new long[]{64, 4}, MemorySegment.ofArray(codes), null);
        try (Weight w = backend.weight(t); Buffer x = backend.allocate(4); Buffer out = backend.allocate(64)) {
            for (int j = 0; j < 4; j++) {
                float[] oneHot = new float[4];
                oneHot[j] = 1;
                backend.upload(oneHot, 0, x, 0, 4);
                backend.matmul(x, 1, w, out);
                float[] got = download(backend, out, 64);
                for (int r = 0; r < 64; r++) {
                    boolean rowHasNan = false;
                    for (int c = 0; c < 4; c++) rowHasNan |= Float.isNaN(FloatFormats.e4m3ToFloat(4 * r + c));
                    float expected = rowHasNan ? Float.NaN : FloatFormats.e4m3ToFloat(4 * r + j);
                    assertEquals(expected, got[r], 0f, "code 0x" + Integer.toHexString(4 * r + j));
                }
            }
        }
    }

    /** One-row matmuls give each row the sums the 8-row matmul kernel gives it, bit for bit. */
    @Test
    void matvecGivesTheSumsOfTheBlockedKernel() {
        Random rnd = new Random(7);
        for (DType dtype : new DType[]{DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2}) {
            int rows = 3, cols = 100, out = 37;
            float[] x = random(rnd, rows * cols, 1);
            try (Weight w = backend.weight(tensor("w", dtype, new long[]{out, cols}, random(rnd, out * cols, 0.5)));
                 Buffer all = upload(backend, x); Buffer blocked = backend.allocate((long) rows * out);
                 Buffer one = backend.allocate(out); Buffer row = backend.allocate(cols)) {
                backend.matmul(all, rows, w, blocked);
                float[] b = download(backend, blocked, rows * out);
                for (int r = 0; r < rows; r++) {
                    backend.upload(x, r * cols, row, 0, cols);
                    backend.matmul(row, 1, w, one);
                    float[] o = download(backend, one, out);
                    for (int i = 0; i < out; i++) {
                        assertEquals(Float.floatToIntBits(b[r * out + i]), Float.floatToIntBits(o[i]),
                                dtype + " row " + r + " feature " + i + ": " + b[r * out + i] + " vs " + o[i]);
                    }
                }
            }
        }
    }
}
