package dev.floe.tck.defects;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/** Planted defects of the hard-input, contract and concurrency checks, each wrapping the real cpu-vector backend. */
final class NumericDefects {
    private NumericDefects() {
    }

    /**
     * Attention computed on the host with a float32 softmax that does not subtract the row's maximum: right on
     * N(0,1) inputs, NaN once a score passes 88.
     */
    static final class UnstableSoftmax extends ForwardingBackend {
        private final Map<KvCache, KvLayout> layouts = new IdentityHashMap<>();
        private final Map<KvCache, Map<Long, float[][]>> rows = new IdentityHashMap<>();

        UnstableSoftmax(Backend d) {
            super(d);
        }

        @Override
        public KvCache kvCache(KvLayout layout) {
            KvCache c = super.kvCache(layout);
            layouts.put(c, layout);
            rows.put(c, new HashMap<>());
            return c;
        }

        @Override
        public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int n, int[] slots) {
            super.storeKv(cache, layer, k, v, n, slots);
            KvLayout l = layouts.get(cache);
            int width = l.kvHeads() * l.headDim();
            float[] kh = new float[n * width], vh = new float[n * width];
            download(k, 0, kh, 0, kh.length);
            download(v, 0, vh, 0, vh.length);
            for (int r = 0; r < n; r++) {
                rows.get(cache).put(((long) layer << 32) | slots[r], new float[][]{
                        java.util.Arrays.copyOfRange(kh, r * width, (r + 1) * width), java.util.Arrays.copyOfRange(vh, r * width, (r + 1) * width)});
            }
        }

        @Override
        public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
            if (batch.rotatesKeys()) {
                super.attention(q, cache, layer, batch, out);
                return;
            }
            KvLayout l = layouts.get(cache);
            int heads = batch.heads(), d = l.headDim(), group = heads / l.kvHeads();
            float[] qh = new float[batch.rows() * heads * d], o = new float[qh.length];
            download(q, 0, qh, 0, qh.length);
            float scale = (float) (1 / Math.sqrt(d));
            for (int r = 0; r < batch.rows(); r++) {
                int pos = batch.position(r), seq = batch.sequenceOf(r);
                for (int h = 0; h < heads; h++) {
                    int kvh = h / group;
                    float[] w = new float[pos + 1];
                    float sum = 0;
                    for (int p = 0; p <= pos; p++) {
                        float[] k = rows.get(cache).get(((long) layer << 32) | batch.slot(seq, p, l.blockSize()))[0];
                        float dot = 0;
                        for (int i = 0; i < d; i++) dot += qh[(r * heads + h) * d + i] * k[kvh * d + i];
                        w[p] = (float) Math.exp(dot * scale); // the defect: no max subtracted first
                        sum += w[p];
                    }
                    for (int p = 0; p <= pos; p++) {
                        float[] v = rows.get(cache).get(((long) layer << 32) | batch.slot(seq, p, l.blockSize()))[1];
                        for (int i = 0; i < d; i++) o[(r * heads + h) * d + i] += w[p] / sum * v[kvh * d + i];
                    }
                }
            }
            upload(o, 0, out, 0, o.length);
        }
    }

    /** One scratch array for every instance: add() goes through it, so instances in parallel threads mix their data. */
    static final class SharedScratch extends ForwardingBackend {
        private static final float[] SCRATCH = new float[1 << 20];

        SharedScratch(Backend d) {
            super(d);
        }

        @Override
        public void add(Buffer a, Buffer b, long n, Buffer out) {
            int m = (int) n;
            float[] other = new float[m];
            download(a, 0, SCRATCH, 0, m);
            pause();
            download(b, 0, other, 0, m);
            for (int i = 0; i < m; i++) SCRATCH[i] += other[i];
            pause();
            upload(SCRATCH, 0, out, 0, m);
        }

        private static void pause() {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The opened backend reads fewer dtypes than its provider declares (the runtime would feed it F32 for BF16). */
    static final class FewerCapabilitiesWhenOpened extends ForwardingBackend {
        FewerCapabilitiesWhenOpened(Backend d) {
            super(d);
        }

        @Override
        public Set<Capability> capabilities() {
            Set<Capability> c = EnumSet.copyOf(super.capabilities());
            c.remove(Capability.WEIGHTS_BF16);
            return c;
        }
    }

    /** Declares attention sinks but attends over the cached keys without rotating them. */
    static final class UnrotatedSinkKeys extends ForwardingBackend {
        UnrotatedSinkKeys(Backend d) {
            super(d);
        }

        @Override
        public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
            super.attention(q, cache, layer, new AttentionBatch(batch.heads(), batch.positions(), batch.sequence(), batch.blockTables()), out);
        }
    }

    /**
     * An E4M3 decoder that reads 0x7E/0xFE (+-448, the largest finite values of E4M3FN) as NaN, as a decoder written
     * for the IEEE-like layout would: F8_E4M3 weights are decoded on the host, with this mistake, and handed over as F32.
     */
    static final class E4m3MaxAsNan extends ForwardingBackend {
        E4m3MaxAsNan(Backend d) {
            super(d);
        }

        @Override
        public dev.floe.spi.Weight weight(dev.floe.api.TensorData t) {
            if (t.dtype() != dev.floe.api.DType.F8_E4M3) return super.weight(t);
            int rows = (int) t.rows(), cols = (int) t.cols();
            float[] values = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                float scale = t.scale() == null ? 1 : t.scale().data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED,
                        t.scale().numel() == 1 ? 0 : r);
                for (int c = 0; c < cols; c++) {
                    int code = t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) r * cols + c) & 0xFF;
                    values[r * cols + c] = (code & 0x7F) == 0x7E ? Float.NaN : dev.floe.spi.FloatFormats.e4m3ToFloat(code) * scale;
                }
            }
            return super.weight(dev.floe.tck.oracle.OracleWeight.ofFloats(t.name(), rows, cols, values).tensor(t.shape().length == 1));
        }
    }
}
