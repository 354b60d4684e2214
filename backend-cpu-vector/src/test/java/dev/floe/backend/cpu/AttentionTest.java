package dev.floe.backend.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Attention#heads} gives every query head the same bits whether it runs with the other heads of its KV head or
 * alone, and whether the cache's blocks hold whole vectors of positions (the vector kernels) or not (the scalar code):
 * so neither the batch around a row, nor the split of the work into tasks, nor the block size changes an output.
 */
class AttentionTest {
    @ParameterizedTest(name = "{0} heads, head_dim {1}, sinks {2}")
    @CsvSource({"4, 128, false", "7, 128, false", "8, 64, false", "3, 128, false", "1, 128, false", "4, 32, false",
            "4, 72, false", "4, 128, true", "7, 64, true"})
    void headsGiveTheSameBitsTogetherAloneAndInScalarCode(int count, int d, boolean sinks) {
        SplittableRandom random = new SplittableRandom(count * 1000L + d);
        int kvHeads = 3, kvHead = 1, rowWidth = kvHeads * d, ctx = 150;
        float[][] k = new float[ctx][], v = new float[ctx][];
        for (int p = 0; p < ctx; p++) {
            k[p] = gaussian(random, rowWidth);
            v[p] = gaussian(random, rowWidth);
        }
        float[] q = gaussian(random, count * d);
        float scale = (float) (1 / Math.sqrt(d));
        Attention.KeyRotation rope = sinks ? rotations(ctx, d) : null;
        for (int n : new int[]{1, 3, 4, 5, 16, 17, 37, 64, 65, 130, 150}) {
            float[] reference = null;
            // 16 positions per block: vector kernels (with 16 or 8 lanes); 24 and 6: the scalar code
            for (int blockSize : new int[]{16, 24, 6}) {
                Cache c = new Cache(k, v, rowWidth, blockSize);
                // a row with room for more than this (as a reused one may have) computes the same
                Attention.Row row = new Attention.Row(d, blockSize, rowWidth, ctx + 40, count + 1);
                row.row(c.table, n);
                float[] together = new float[count * d], alone = new float[count * d];
                Attention.heads(row, q, 0, count, c.keys, c.values, kvHead, scale, together, 0, rope);
                for (int h = 0; h < count; h++) {
                    Attention.heads(row, q, h * d, 1, c.keys, c.values, kvHead, scale, alone, h * d, rope);
                }
                if (reference == null) reference = together;
                for (int i = 0; i < together.length; i++) {
                    String at = n + " positions, blocks of " + blockSize + ", head " + i / d + ", element " + i % d;
                    assertEquals(Float.floatToRawIntBits(together[i]), Float.floatToRawIntBits(alone[i]), at + ": together against alone");
                    assertEquals(Float.floatToRawIntBits(reference[i]), Float.floatToRawIntBits(together[i]), at + ": against blocks of 16");
                }
            }
        }
    }

    /** Keys and values of positions {@code 0..} laid out as {@link PagedKvCache} holds them, in blocks taken in reverse. */
    private record Cache(float[] keys, float[] values, int[] table) {
        Cache(float[][] k, float[][] v, int rowWidth, int blockSize) {
            this(new float[((k.length + blockSize - 1) / blockSize + 1) * blockSize * rowWidth],
                    new float[((k.length + blockSize - 1) / blockSize + 1) * blockSize * rowWidth],
                    new int[(k.length + blockSize - 1) / blockSize]);
            for (int b = 0; b < table.length; b++) table[b] = table.length - b; // block 0 unused: not in order
            for (int p = 0; p < k.length; p++) {
                int slot = table[p / blockSize] * blockSize + p % blockSize;
                for (int e = 0; e < rowWidth; e++) keys[Attention.keyIndex(slot, e, blockSize, rowWidth)] = k[p][e];
                System.arraycopy(v[p], 0, values, slot * rowWidth, rowWidth);
            }
        }
    }

    /** cos and sin tables as the backend hands them to attention for keys cached before RoPE: transposed. */
    private static Attention.KeyRotation rotations(int ctx, int d) {
        int stride = (ctx + Matmul.VL - 1) / Matmul.VL * Matmul.VL, half = d / 2;
        float[][] t = new float[2][half * stride];
        for (int p = 0; p < stride; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(10000, -2.0 * i / d);
                t[0][i * stride + p] = (float) Math.cos(angle);
                t[1][i * stride + p] = (float) Math.sin(angle);
            }
        }
        return new Attention.KeyRotation(t[0], t[1], stride);
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextGaussian() * 2);
        return x;
    }
}
