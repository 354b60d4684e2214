package dev.floe.backend.cpu;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys cached before RoPE and rotated by their cache index in attention give what pre-rotated keys give. */
class AttentionSinksTest {
    @Test
    void rotatingCachedKeysEqualsCachingRotatedKeys() {
        Random rnd = new Random(11);
        int kvHeads = 2, heads = 4, d = 32, blockSize = 4, ctx = 37, rows = 5;
        float theta = 10000f;
        try (Backend backend = new CpuVectorProvider().open(new BackendOptions(2, Map.of()))) {
            assertTrue(backend.capabilities().contains(Capability.ATTENTION_SINKS));
            KvLayout layout = new KvLayout(1, kvHeads, d, (ctx + blockSize - 1) / blockSize, blockSize);
            int rw = kvHeads * d;
            float[] k = new float[ctx * rw], v = new float[ctx * rw], q = new float[rows * heads * d];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) rnd.nextGaussian();
                v[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
            int[] table = new int[layout.blocks()];
            for (int b = 0; b < table.length; b++) table[b] = table.length - 1 - b;
            int[] slots = new int[ctx], cachePositions = new int[ctx];
            for (int p = 0; p < ctx; p++) {
                slots[p] = table[p / blockSize] * blockSize + p % blockSize;
                cachePositions[p] = p;
            }
            int[] queryPositions = new int[rows];
            for (int r = 0; r < rows; r++) queryPositions[r] = ctx - rows + r;
            float[] rotated, unrotated;
            try (KvCache a = backend.kvCache(layout); KvCache b = backend.kvCache(layout);
                 Buffer kb = TestTensors.upload(backend, k); Buffer kr = TestTensors.upload(backend, k); Buffer vb = TestTensors.upload(backend, v);
                 Buffer qb = TestTensors.upload(backend, q); Buffer oa = backend.allocate((long) rows * heads * d);
                 Buffer ob = backend.allocate((long) rows * heads * d)) {
                backend.rope(kr, ctx, kvHeads, d, cachePositions, theta);
                backend.storeKv(a, 0, kr, vb, ctx, slots);
                backend.storeKv(b, 0, kb, vb, ctx, slots);
                backend.attention(qb, a, 0, AttentionBatch.single(heads, queryPositions, table), oa);
                backend.attention(qb, b, 0, new AttentionBatch(heads, queryPositions, new int[rows], new int[][]{table}, theta), ob);
                rotated = download(backend, oa);
                unrotated = download(backend, ob);
            }
            assertArrayEquals(rotated, unrotated, 1e-5f);
        }
    }

    @Test
    void aNegativeThetaIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new AttentionBatch(1, new int[]{0}, new int[]{0}, new int[][]{{0}}, -1f));
    }

    private static float[] download(Backend backend, Buffer b) {
        return TestTensors.download(backend, b, (int) b.floats());
    }
}
