package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Scaled-dot-product attention of one query head over the paged keys and values of its KV head. */
final class Attention {
    private static final VectorSpecies<Float> FS = Matmul.FS;
    private static final int VL = Matmul.VL;

    private Attention() {
    }

    /**
     * Writes {@code out[oo..oo+d)} = softmax(q k^T * scale) v over the {@code n} positions whose cache rows start at
     * {@code slotBase[p] + headOff}. Scores, softmax and the weighted sum are float32, like the reference.
     */
    static void head(float[] q, int qo, float[] keys, float[] values, int[] slotBase, int n, int headOff, int d,
                     float scale, float[] scores, float[] out, int oo) {
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            float s = dot(q, qo, keys, slotBase[p] + headOff, d) * scale;
            scores[p] = s;
            if (s > max) max = s;
        }
        weightedValues(values, slotBase, n, headOff, d, max, scores, out, oo);
    }

    /**
     * As {@link #head}, for keys cached before RoPE (attention sinks): the key at cache index {@code p} is rotated by
     * {@code cos/sin[p * d/2 ..]} into {@code key} before its dot product, exactly as the rope kernel would have.
     */
    static void headRotatingKeys(float[] q, int qo, float[] keys, float[] values, int[] slotBase, int n, int headOff, int d,
                                 float scale, float[] scores, float[] out, int oo, float[] cos, float[] sin, float[] key) {
        int half = d / 2;
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            int ko = slotBase[p] + headOff;
            int ro = p * half;
            for (int j = 0; j < half; j++) {
                float x1 = keys[ko + j];
                float x2 = keys[ko + j + half];
                key[j] = x1 * cos[ro + j] - x2 * sin[ro + j];
                key[j + half] = x2 * cos[ro + j] + x1 * sin[ro + j];
            }
            float s = dot(q, qo, key, 0, d) * scale;
            scores[p] = s;
            if (s > max) max = s;
        }
        weightedValues(values, slotBase, n, headOff, d, max, scores, out, oo);
    }

    /** out = softmax(scores) v, the scores already scaled, {@code max} their maximum. */
    private static void weightedValues(float[] values, int[] slotBase, int n, int headOff, int d, float max,
                                       float[] scores, float[] out, int oo) {
        int full = FS.loopBound(n);
        FloatVector sumV = FloatVector.zero(FS);
        int p = 0;
        for (; p < full; p += VL) {
            FloatVector e = Lanes.exp(FloatVector.fromArray(FS, scores, p).sub(max));
            e.intoArray(scores, p);
            sumV = sumV.add(e);
        }
        float sum = Lanes.sum(sumV);
        for (; p < n; p++) {
            float e = (float) Math.exp(scores[p] - max);
            scores[p] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < d; i++) out[oo + i] = 0f;
        int dFull = FS.loopBound(d);
        for (p = 0; p < n; p++) {
            float w = scores[p] * inv;
            int vo = slotBase[p] + headOff;
            int i = 0;
            for (; i < dFull; i += VL) {
                FloatVector.fromArray(FS, values, vo + i).fma(FloatVector.broadcast(FS, w), FloatVector.fromArray(FS, out, oo + i)).intoArray(out, oo + i);
            }
            for (; i < d; i++) out[oo + i] += w * values[vo + i];
        }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int full = FS.loopBound(n);
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i < full; i += VL) acc = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), acc);
        float s = Lanes.sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
