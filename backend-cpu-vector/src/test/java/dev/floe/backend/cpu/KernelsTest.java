package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** embed, rmsNorm, rope, storeKv, attention, swiglu, add, gatherRows and scatterAddRows against double references. */
class KernelsTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = new CpuVectorProvider().open(new BackendOptions(2, Map.of()));
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static Buffer upload(float[] data) {
        Buffer b = backend.allocate(data.length);
        backend.upload(data, 0, b, 0, data.length);
        return b;
    }

    private static float[] download(Buffer b) {
        float[] f = new float[(int) b.floats()];
        backend.download(b, 0, f, 0, f.length);
        return f;
    }

    private static void assertClose(double expected, float actual, double scale, String what) {
        assertEquals(expected, actual, 1e-5 * Math.max(1, Math.abs(scale)), what);
    }

    @Test
    void embedReadsScaledRowsOfEveryDtype() {
        Random rnd = new Random(11);
        for (DType t : TestTensors.WEIGHT_TYPES) {
            int vocab = 37, dim = 45;
            TensorData table = TestTensors.tensor("embed", t, vocab, dim, TestTensors.gaussian(rnd, vocab * dim, 2));
            if (t.bytes() == 1) {
                float[] s = new float[vocab];
                for (int i = 0; i < vocab; i++) s[i] = 0.01f * (i + 1);
                table = table.withScale(TestTensors.scale("embed", s));
            }
            int[] ids = {0, 36, 5, 5, 17};
            try (Weight w = backend.weight(table); Buffer out = backend.allocate((long) ids.length * dim)) {
                backend.embed(w, ids, out);
                float[] o = download(out);
                for (int r = 0; r < ids.length; r++) {
                    for (int i = 0; i < dim; i++) {
                        double ref = (double) FloatFormats.read(table, (long) ids[r] * dim + i) * FloatFormats.scale(table, ids[r]);
                        assertEquals(ref, o[r * dim + i], Math.abs(ref) * 1e-6, t + " id " + ids[r]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 128, 2048, 4099})
    void rmsNormMatchesReference(int dim) {
        Random rnd = new Random(dim);
        int rows = 3;
        float[] x = TestTensors.gaussian(rnd, rows * dim, 3);
        float[] wv = TestTensors.gaussian(rnd, dim, 1);
        for (DType t : new DType[]{DType.F32, DType.BF16}) {
            TensorData wt = TestTensors.tensor("norm", t, 0, dim, wv);
            try (Weight w = backend.weight(wt); Buffer xb = upload(x); Buffer out = backend.allocate((long) rows * dim)) {
                backend.rmsNorm(xb, w, 1e-5f, rows, dim, out);
                float[] o = download(out);
                for (int r = 0; r < rows; r++) {
                    double ss = 0;
                    for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
                    double inv = 1 / Math.sqrt(ss / dim + 1e-5);
                    for (int i = 0; i < dim; i++) {
                        double ref = FloatFormats.read(wt, i) * x[r * dim + i] * inv;
                        assertEquals(ref, o[r * dim + i], 1e-5 * Math.max(1e-3, Math.abs(ref)), "dim " + dim + " i " + i);
                    }
                }
                // in place
                backend.rmsNorm(xb, w, 1e-5f, rows, dim, xb);
                float[] inPlace = download(xb);
                for (int i = 0; i < o.length; i++) assertEquals(o[i], inPlace[i], 0f);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 8, 64, 128})
    void ropeRotatesHalves(int headDim) {
        Random rnd = new Random(headDim);
        int rows = 4, heads = 3;
        float theta = 10000f;
        float[] x = TestTensors.gaussian(rnd, rows * heads * headDim, 1);
        int[] pos = {0, 1, 17, 4095};
        try (Buffer xb = upload(x)) {
            backend.rope(xb, rows, heads, headDim, pos, theta);
            float[] o = download(xb);
            int half = headDim / 2;
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < heads; h++) {
                    int base = (r * heads + h) * headDim;
                    for (int j = 0; j < half; j++) {
                        double a = pos[r] * Math.pow(theta, -2.0 * j / headDim);
                        double x1 = x[base + j], x2 = x[base + j + half];
                        // float32 angles (as HF) differ from the exact angle by ~pos * 2^-24 radians
                        double tol = 1e-5 + pos[r] * 1.2e-7 * Math.hypot(x1, x2);
                        assertEquals(x1 * Math.cos(a) - x2 * Math.sin(a), o[base + j], tol);
                        assertEquals(x2 * Math.cos(a) + x1 * Math.sin(a), o[base + j + half], tol);
                    }
                }
            }
        }
    }

    @Test
    void ropeUsesFloat32AnglesLikePyTorch() {
        int headDim = 128;
        float theta = 1e6f;
        float[] x = new float[headDim];
        for (int j = 0; j < headDim / 2; j++) x[j] = 1f;
        int pos = 3000;
        try (Buffer xb = upload(x)) {
            backend.rope(xb, 1, 1, headDim, new int[]{pos}, theta);
            float[] o = download(xb);
            for (int j = 0; j < headDim / 2; j++) {
                // transformers: inv_freq = 1.0 / (base ** (arange(0, d, 2).float() / d)), each step rounded to float32
                float invFreq = 1f / (float) Math.pow(theta, (float) (2 * j) / (float) headDim);
                float angle = pos * invFreq;
                assertEquals((float) Math.cos(angle), o[j], 1e-7f);
                assertEquals((float) Math.sin(angle), o[j + headDim / 2], 1e-7f);
            }
        }
    }

    /** Several sequences with shuffled block tables, GQA, prefill and decode rows in one call. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8})
    void pagedAttentionMatchesReference(int group) {
        Random rnd = new Random(100 + group);
        int kvHeads = 2, heads = kvHeads * group, d = 24, blockSize = 4, blocks = 40;
        KvLayout layout = new KvLayout(2, kvHeads, d, blocks, blockSize);
        int[] lengths = {13, 1, 30};
        List<Integer> free = new ArrayList<>();
        for (int b = 0; b < blocks; b++) free.add(b);
        Collections.shuffle(free, rnd);
        int[][] tables = new int[lengths.length][];
        for (int s = 0; s < lengths.length; s++) {
            tables[s] = new int[(lengths[s] + blockSize - 1) / blockSize];
            for (int b = 0; b < tables[s].length; b++) tables[s][b] = free.removeFirst();
        }
        int rw = kvHeads * d;
        float[][][] keys = new float[lengths.length][][];
        float[][][] values = new float[lengths.length][][];
        try (KvCache cache = backend.kvCache(layout)) {
            int layer = 1;
            for (int s = 0; s < lengths.length; s++) {
                keys[s] = new float[lengths[s]][];
                values[s] = new float[lengths[s]][];
                float[] k = new float[lengths[s] * rw], v = new float[lengths[s] * rw];
                int[] slots = new int[lengths[s]];
                for (int p = 0; p < lengths[s]; p++) {
                    keys[s][p] = TestTensors.gaussian(rnd, rw, 1);
                    values[s][p] = TestTensors.gaussian(rnd, rw, 1);
                    System.arraycopy(keys[s][p], 0, k, p * rw, rw);
                    System.arraycopy(values[s][p], 0, v, p * rw, rw);
                    slots[p] = tables[s][p / blockSize] * blockSize + p % blockSize;
                }
                try (Buffer kb = upload(k); Buffer vb = upload(v)) {
                    backend.storeKv(cache, layer, kb, vb, lengths[s], slots);
                }
            }
            // rows: the last 5 positions of sequence 2 (prefill), the only one of 1, position 12 and 3 of sequence 0
            int[] seq = {2, 2, 2, 2, 2, 1, 0, 0};
            int[] pos = {25, 26, 27, 28, 29, 0, 12, 3};
            int rows = seq.length;
            float[] q = TestTensors.gaussian(rnd, rows * heads * d, 1);
            AttentionBatch batch = new AttentionBatch(heads, pos, seq, tables);
            try (Buffer qb = upload(q); Buffer ob = backend.allocate((long) rows * heads * d)) {
                backend.attention(qb, cache, layer, batch, ob);
                float[] out = download(ob);
                for (int r = 0; r < rows; r++) {
                    for (int h = 0; h < heads; h++) {
                        int g = h / group;
                        int n = pos[r] + 1;
                        double[] sc = new double[n];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int p = 0; p < n; p++) {
                            double dot = 0;
                            for (int i = 0; i < d; i++) dot += (double) q[(r * heads + h) * d + i] * keys[seq[r]][p][g * d + i];
                            sc[p] = dot / Math.sqrt(d);
                            max = Math.max(max, sc[p]);
                        }
                        double sum = 0;
                        for (int p = 0; p < n; p++) sum += sc[p] = Math.exp(sc[p] - max);
                        for (int i = 0; i < d; i++) {
                            double ref = 0;
                            for (int p = 0; p < n; p++) ref += sc[p] / sum * values[seq[r]][p][g * d + i];
                            assertClose(ref, out[(r * heads + h) * d + i], 1, "row " + r + " head " + h + " i " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void attentionSpreadsLongContextsOverThreads() {
        Random rnd = new Random(3);
        int kvHeads = 4, heads = 16, d = 128, blockSize = 16, ctx = 700;
        KvLayout layout = new KvLayout(1, kvHeads, d, (ctx + blockSize - 1) / blockSize, blockSize);
        int rw = kvHeads * d;
        float[] k = TestTensors.gaussian(rnd, ctx * rw, 1), v = TestTensors.gaussian(rnd, ctx * rw, 1);
        int[] table = new int[layout.blocks()];
        for (int b = 0; b < table.length; b++) table[b] = table.length - 1 - b;
        int[] slots = new int[ctx];
        for (int p = 0; p < ctx; p++) slots[p] = table[p / blockSize] * blockSize + p % blockSize;
        float[] q = TestTensors.gaussian(rnd, heads * d, 1);
        try (KvCache cache = backend.kvCache(layout); Buffer kb = upload(k); Buffer vb = upload(v); Buffer qb = upload(q);
             Buffer ob = backend.allocate((long) heads * d)) {
            backend.storeKv(cache, 0, kb, vb, ctx, slots);
            backend.attention(qb, cache, 0, AttentionBatch.single(heads, new int[]{ctx - 1}, table), ob);
            float[] out = download(ob);
            for (int h = 0; h < heads; h += 5) {
                int g = h / (heads / kvHeads);
                double[] sc = new double[ctx];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < ctx; p++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double) q[h * d + i] * k[p * rw + g * d + i];
                    sc[p] = dot / Math.sqrt(d);
                    max = Math.max(max, sc[p]);
                }
                double sum = 0;
                for (int p = 0; p < ctx; p++) sum += sc[p] = Math.exp(sc[p] - max);
                for (int i = 0; i < d; i++) {
                    double ref = 0;
                    for (int p = 0; p < ctx; p++) ref += sc[p] / sum * v[p * rw + g * d + i];
                    assertClose(ref, out[h * d + i], 1, "head " + h);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 15, 16, 17, 1408, 5633})
    void elementwiseKernels(int n) {
        Random rnd = new Random(n);
        float[] g = TestTensors.gaussian(rnd, n, 4), u = TestTensors.gaussian(rnd, n, 2);
        try (Buffer gb = upload(g); Buffer ub = upload(u); Buffer ob = backend.allocate(n)) {
            backend.swiglu(gb, ub, n, ob);
            float[] o = download(ob);
            for (int i = 0; i < n; i++) {
                double ref = g[i] / (1 + Math.exp(-(double) g[i])) * u[i];
                assertEquals(ref, o[i], 1e-5 * Math.max(1e-2, Math.abs(ref)), "swiglu " + g[i]);
            }
            backend.add(gb, ub, n, ob);
            o = download(ob);
            for (int i = 0; i < n; i++) assertEquals(g[i] + u[i], o[i], 0f);
            backend.add(gb, ub, n, gb);
            o = download(gb);
            for (int i = 0; i < n; i++) assertEquals(g[i] + u[i], o[i], 0f, "add in place");
        }
    }

    @Test
    void gatherAndScatterRows() {
        Random rnd = new Random(9);
        int cols = 37, srcRows = 6;
        float[] src = TestTensors.gaussian(rnd, srcRows * cols, 1);
        int[] rows = {5, 0, 5, 2};
        try (Buffer sb = upload(src); Buffer gb = backend.allocate((long) rows.length * cols)) {
            backend.gatherRows(sb, cols, rows, gb);
            float[] g = download(gb);
            for (int i = 0; i < rows.length; i++) {
                for (int c = 0; c < cols; c++) assertEquals(src[rows[i] * cols + c], g[i * cols + c], 0f);
            }
            float[] dst0 = TestTensors.gaussian(rnd, srcRows * cols, 1);
            float[] scales = {0.5f, -2f, 0.25f, 1f};
            try (Buffer db = upload(dst0)) {
                backend.scatterAddRows(gb, cols, rows, scales, db);
                float[] d = download(db);
                double[] ref = new double[dst0.length];
                for (int i = 0; i < ref.length; i++) ref[i] = dst0[i];
                for (int i = 0; i < rows.length; i++) {
                    for (int c = 0; c < cols; c++) ref[rows[i] * cols + c] += scales[i] * g[i * cols + c];
                }
                for (int i = 0; i < ref.length; i++) assertEquals(ref[i], d[i], 1e-5);
            }
        }
    }
}
