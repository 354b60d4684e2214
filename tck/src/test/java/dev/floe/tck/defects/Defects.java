package dev.floe.tck.defects;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.Weight;

import java.util.Arrays;

/** Backends with one planted defect each, made by wrapping the real cpu-vector backend. */
final class Defects {
    private Defects() {
    }

    /** RoPE rotating interleaved pairs {@code (x[2j], x[2j+1])} instead of {@code (x[j], x[j + d/2])}. */
    static final class InterleavedRope extends ForwardingBackend {
        InterleavedRope(Backend d) {
            super(d);
        }

        @Override
        public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) {
            int n = rows * heads * headDim;
            float[] v = new float[n];
            download(x, 0, v, 0, n);
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < heads; h++) {
                    int base = (r * heads + h) * headDim;
                    for (int j = 0; j < headDim / 2; j++) {
                        double angle = positions[r] * Math.pow(theta, -2.0 * j / headDim);
                        float a = v[base + 2 * j], b = v[base + 2 * j + 1];
                        v[base + 2 * j] = (float) (a * Math.cos(angle) - b * Math.sin(angle));
                        v[base + 2 * j + 1] = (float) (b * Math.cos(angle) + a * Math.sin(angle));
                    }
                }
            }
            upload(v, 0, x, 0, n);
        }
    }

    /** A causal mask off by one: each query also sees the key after its own position. */
    static final class OffByOneMask extends ForwardingBackend {
        OffByOneMask(Backend d) {
            super(d);
        }

        @Override
        public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
            int[] shifted = batch.positions();
            for (int r = 0; r < shifted.length; r++) shifted[r]++;
            super.attention(q, cache, layer, new AttentionBatch(batch.heads(), shifted, batch.sequence(), batch.blockTables()), out);
        }
    }

    /** Expert outputs summed without their router weights: scatterAddRows ignores the scales. */
    static final class UnweightedExperts extends ForwardingBackend {
        UnweightedExperts(Backend d) {
            super(d);
        }

        @Override
        public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) {
            float[] ones = new float[scales.length];
            Arrays.fill(ones, 1f);
            super.scatterAddRows(src, cols, rows, ones, dst);
        }
    }

    /** FP8 weights decoded without their scale. */
    static final class Fp8WithoutScale extends ForwardingBackend {
        Fp8WithoutScale(Backend d) {
            super(d);
        }

        @Override
        public Weight weight(TensorData t) {
            boolean fp8 = t.dtype() == DType.F8_E4M3 || t.dtype() == DType.F8_E5M2;
            return super.weight(fp8 ? t.withScale(null) : t);
        }
    }

    /** Keys and values written one slot after where they belong. */
    static final class KvWrongPosition extends ForwardingBackend {
        KvWrongPosition(Backend d) {
            super(d);
        }

        @Override
        public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
            int[] moved = new int[slots.length];
            long total = cache.layout().slots();
            for (int i = 0; i < slots.length; i++) moved[i] = (int) ((slots[i] + 1) % total);
            super.storeKv(cache, layer, k, v, rows, moved);
        }
    }
}
