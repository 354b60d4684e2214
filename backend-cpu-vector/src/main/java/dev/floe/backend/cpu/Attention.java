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
        int p = 0;
        // four positions at a time: four independent FMA chains, each in the order of dot()
        for (; p + 4 <= n; p += 4) dot4(q, qo, keys, slotBase, p, headOff, d, scale, scores);
        for (; p < n; p++) scores[p] = dot(q, qo, keys, slotBase[p] + headOff, d) * scale;
        float max = Float.NEGATIVE_INFINITY;
        for (p = 0; p < n; p++) if (scores[p] > max) max = scores[p];
        weightedValues(values, slotBase, n, headOff, d, max, scores, out, oo);
    }

    /** {@code scores[p..p+3]}: {@link #dot} of the query with the keys of positions {@code p..p+3}, times {@code scale}. */
    private static void dot4(float[] q, int qo, float[] keys, int[] slotBase, int p, int headOff, int d, float scale,
                             float[] scores) {
        int k0 = slotBase[p] + headOff, k1 = slotBase[p + 1] + headOff;
        int k2 = slotBase[p + 2] + headOff, k3 = slotBase[p + 3] + headOff;
        int full = FS.loopBound(d);
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i < full; i += VL) {
            FloatVector qv = FloatVector.fromArray(FS, q, qo + i);
            a0 = qv.fma(FloatVector.fromArray(FS, keys, k0 + i), a0);
            a1 = qv.fma(FloatVector.fromArray(FS, keys, k1 + i), a1);
            a2 = qv.fma(FloatVector.fromArray(FS, keys, k2 + i), a2);
            a3 = qv.fma(FloatVector.fromArray(FS, keys, k3 + i), a3);
        }
        float s0 = Lanes.sum(a0), s1 = Lanes.sum(a1), s2 = Lanes.sum(a2), s3 = Lanes.sum(a3);
        for (; i < d; i++) {
            float qi = q[qo + i];
            s0 += qi * keys[k0 + i];
            s1 += qi * keys[k1 + i];
            s2 += qi * keys[k2 + i];
            s3 += qi * keys[k3 + i];
        }
        scores[p] = s0 * scale;
        scores[p + 1] = s1 * scale;
        scores[p + 2] = s2 * scale;
        scores[p + 3] = s3 * scale;
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
        for (p = 0; p < n; p++) scores[p] *= inv;
        // eight vectors of the output at a time, held in registers over all positions: each element is still one FMA
        // chain over the positions in order, as a load-add-store per position would give, without the store in the chain
        int i = 0;
        for (; i + 8 * VL <= d; i += 8 * VL) {
            FloatVector o0 = FloatVector.zero(FS), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
            for (p = 0; p < n; p++) {
                FloatVector w = FloatVector.broadcast(FS, scores[p]);
                int vo = slotBase[p] + headOff + i;
                o0 = FloatVector.fromArray(FS, values, vo).fma(w, o0);
                o1 = FloatVector.fromArray(FS, values, vo + VL).fma(w, o1);
                o2 = FloatVector.fromArray(FS, values, vo + 2 * VL).fma(w, o2);
                o3 = FloatVector.fromArray(FS, values, vo + 3 * VL).fma(w, o3);
                o4 = FloatVector.fromArray(FS, values, vo + 4 * VL).fma(w, o4);
                o5 = FloatVector.fromArray(FS, values, vo + 5 * VL).fma(w, o5);
                o6 = FloatVector.fromArray(FS, values, vo + 6 * VL).fma(w, o6);
                o7 = FloatVector.fromArray(FS, values, vo + 7 * VL).fma(w, o7);
            }
            o0.intoArray(out, oo + i);
            o1.intoArray(out, oo + i + VL);
            o2.intoArray(out, oo + i + 2 * VL);
            o3.intoArray(out, oo + i + 3 * VL);
            o4.intoArray(out, oo + i + 4 * VL);
            o5.intoArray(out, oo + i + 5 * VL);
            o6.intoArray(out, oo + i + 6 * VL);
            o7.intoArray(out, oo + i + 7 * VL);
        }
        for (; i + VL <= d; i += VL) {
            FloatVector o0 = FloatVector.zero(FS);
            for (p = 0; p < n; p++) o0 = FloatVector.fromArray(FS, values, slotBase[p] + headOff + i).fma(FloatVector.broadcast(FS, scores[p]), o0);
            o0.intoArray(out, oo + i);
        }
        for (; i < d; i++) {
            float o = 0f;
            for (p = 0; p < n; p++) o += scores[p] * values[slotBase[p] + headOff + i];
            out[oo + i] = o;
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
