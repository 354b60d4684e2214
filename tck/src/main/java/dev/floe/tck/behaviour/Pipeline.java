package dev.floe.tck.behaviour;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import dev.floe.tck.oracle.OracleWeight;

import java.util.SplittableRandom;

/**
 * A fixed chain of kernels (embed, rmsNorm, matmul, rope, storeKv, attention, swiglu, add, scatter) on seeded inputs,
 * whose output the determinism and concurrency checks compare bit for bit.
 */
final class Pipeline {
    static final int VOCAB = 29, DIM = 96, HEADS = 4, KV_HEADS = 2, HEAD_DIM = 24, ROWS = 5;

    private Pipeline() {
    }

    static float[] run(Backend b, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] table = gaussian(random, VOCAB * DIM), norm = gaussian(random, DIM), wq = gaussian(random, DIM * DIM);
        int[] ids = random.ints(ROWS, 0, VOCAB).toArray();
        int[] positions = {0, 1, 2, 3, 4};
        try (Weight emb = b.weight(f32("tck.pipeline.embed", VOCAB, DIM, table));
             Weight n = b.weight(new OracleWeight("tck.pipeline.norm", DType.F32, 1, DIM, bytes(norm), null).tensor(true));
             Weight q = b.weight(f32("tck.pipeline.q", DIM, DIM, wq));
             Buffer x = b.allocate(ROWS * DIM); Buffer xn = b.allocate(ROWS * DIM); Buffer h = b.allocate(ROWS * DIM);
             Buffer k = b.allocate(ROWS * KV_HEADS * HEAD_DIM); Buffer att = b.allocate(ROWS * DIM);
             KvCache cache = b.kvCache(new KvLayout(1, KV_HEADS, HEAD_DIM, 2, 4))) {
            b.embed(emb, ids, x);
            b.rmsNorm(x, n, 1e-5f, ROWS, DIM, xn);
            b.matmul(xn, ROWS, q, h);
            b.rope(h, ROWS, HEADS, HEAD_DIM, positions, 10000f);
            b.gatherRows(h, KV_HEADS * HEAD_DIM, new int[]{0, 1, 2, 3, 4}, k); // h viewed as rows of the KV width
            b.storeKv(cache, 0, k, k, ROWS, new int[]{4, 5, 6, 7, 0});
            b.attention(h, cache, 0, new AttentionBatch(HEADS, positions, new int[ROWS], new int[][]{{1, 0}}), att);
            b.swiglu(att, xn, (long) ROWS * DIM, h);
            b.add(h, x, (long) ROWS * DIM, h);
            b.scatterAddRows(h, DIM, new int[]{0, 0, 3}, new float[]{0.5f, 0.25f, 2f}, x);
            float[] out = new float[ROWS * DIM];
            b.download(x, 0, out, 0, out.length);
            return out;
        }
    }

    private static TensorData f32(String name, int rows, int cols, float[] v) {
        return OracleWeight.ofFloats(name, rows, cols, v).tensor(false);
    }

    private static byte[] bytes(float[] v) {
        return OracleWeight.ofFloats("bytes", 1, v.length, v).data();
    }

    static float[] gaussian(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /** Elements whose bits differ. */
    static int bitDifferences(float[] a, float[] b) {
        if (a.length != b.length) return Math.max(a.length, b.length);
        int d = 0;
        for (int i = 0; i < a.length; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) d++;
        return d;
    }
}
