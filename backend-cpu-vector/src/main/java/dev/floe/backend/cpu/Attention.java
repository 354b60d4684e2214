package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled-dot-product attention over a {@link PagedKvCache}, whose keys are stored transposed within each block: one
 * element of the key row for all of a block's positions side by side. A vector then holds one dimension of
 * {@code VL} consecutive positions, so a score is a plain FMA chain down the dimensions, one lane per position: no
 * horizontal sum per score (four permutations and four adds, as many instructions as the multiply-adds they
 * summed), and the query heads that share a KV head (grouped-query attention: 4 per KV head in peer-cpu and
 * Mixtral, 7 in Arctic) take each key vector from one load.
 *
 * <p>Every score is {@code fma(q[i], k[i], s)} for {@code i = 0 .. d-1} in order, times the scale; every output element
 * {@code fma(v[p][i], w[p], o)} for the positions in order. The vector and scalar code compute exactly that, so
 * neither the heads and positions a kernel groups nor the rows batched around a row change a bit.
 */
final class Attention {
    private static final VectorSpecies<Float> FS = Matmul.FS;
    private static final int VL = Matmul.VL;
    /** Four query heads per kernel where there are 32 vector registers (16 sums, 4 keys, 1 query). */
    private static final int HEADS = Matmul.WIDE ? 4 : 1;

    private Attention() {
    }

    /**
     * Per task: where one row's keys and values lie in the cache, its scores, and rotated keys for attention sinks.
     * {@link #row} fills it for a row; {@link #heads} then runs any of the row's KV heads.
     */
    static final class Row {
        final int d, blockSize, rowWidth, stride;
        /** Whether a block holds whole vectors of positions: the vector kernels; else the scalar ones. */
        final boolean vectors;
        final float[] scores;
        final int[] chunks, keyAt, valueAt;
        /** Keys of one chunk of positions rotated by their position (attention sinks), {@code [d][VL]}. */
        final float[] rotated;
        int n;

        private static final ThreadLocal<Row> OF_THREAD = new ThreadLocal<>();

        /** This thread's row, reused where it has room for the shape asked (no garbage per call at long contexts). */
        static Row of(int d, int blockSize, int rowWidth, int ctx, int heads) {
            Row r = OF_THREAD.get();
            if (r == null || r.d != d || r.blockSize != blockSize || r.rowWidth != rowWidth || r.keyAt.length < ctx
                    || r.scores.length < heads * r.stride) {
                r = new Row(d, blockSize, rowWidth, ctx, heads);
                OF_THREAD.set(r);
            }
            return r;
        }

        /** For rows of up to {@code ctx} positions and up to {@code heads} query heads at a time. */
        Row(int d, int blockSize, int rowWidth, int ctx, int heads) {
            this.d = d;
            this.blockSize = blockSize;
            this.rowWidth = rowWidth;
            this.vectors = blockSize % VL == 0;
            this.stride = (ctx + VL - 1) / VL * VL;
            this.scores = new float[heads * stride];
            this.chunks = new int[stride / VL];
            this.keyAt = new int[ctx];
            this.valueAt = new int[ctx];
            this.rotated = new float[d * VL];
        }

        /** The positions {@code 0..n-1} of a sequence whose blocks {@code table} lists. */
        void row(int[] table, int n) {
            this.n = n;
            int bs = blockSize;
            for (int p = 0; p < n; p++) {
                int block = table[p / bs] * bs;
                keyAt[p] = block * rowWidth + p % bs;
                valueAt[p] = (block + p % bs) * rowWidth;
            }
            if (vectors) for (int m = 0; m * VL < n; m++) chunks[m] = keyAt[m * VL];
        }

        int chunkCount() {
            return (n + VL - 1) / VL;
        }
    }

    /**
     * cos and sin of every cache index as rope() computes them, for keys cached before RoPE (attention sinks),
     * transposed: frequency {@code i} of index {@code p} at {@code i * stride + p}, {@code stride} a whole number of
     * vectors.
     */
    record KeyRotation(float[] cos, float[] sin, int stride) {
    }

    /** Where the key element {@code e} of cache slot {@code slot} is stored, in a cache of that block size and row width. */
    static int keyIndex(int slot, int e, int blockSize, int rowWidth) {
        return (slot - slot % blockSize) * rowWidth + e * blockSize + slot % blockSize;
    }

    /**
     * Writes {@code out[oo + j * d ..]} = softmax(q k^T * scale) v for the {@code count} query heads
     * {@code q[qo + j * d ..]} over KV head {@code kvHead} of the {@link Row#row row} in {@code row}. With a
     * {@code rotation} (attention sinks: keys cached before RoPE), the key at cache index p is first rotated by it
     * exactly as the rope kernel would have.
     */
    static void heads(Row row, float[] q, int qo, int count, float[] keys, float[] values, int kvHead, float scale,
                      float[] out, int oo, KeyRotation rotation) {
        int d = row.d, n = row.n, stride = row.stride;
        float[] scores = row.scores;
        if (!row.vectors) {
            scalarScores(row, q, qo, count, keys, kvHead, scale, rotation);
        } else if (rotation == null) {
            int keyOff = kvHead * d * row.blockSize, j = 0;
            for (; j + HEADS <= count; j += HEADS) vectorScores(row, q, qo + j * d, HEADS, keys, keyOff, scale, j * stride);
            for (; j < count; j++) vectorScores(row, q, qo + j * d, 1, keys, keyOff, scale, j * stride);
        } else {
            for (int m = 0; m < row.chunkCount(); m++) {
                rotate(keys, row.chunks[m] + kvHead * d * row.blockSize, row.blockSize, d, rotation, m * VL, row.rotated);
                chunkScores(row, q, qo, count, m, scale);
            }
        }
        for (int j = 0; j < count; j++) softmax(scores, j * stride, n);
        int j = 0, valueOff = kvHead * d;
        if (Matmul.WIDE && d % (4 * VL) == 0) {
            for (; j + 4 <= count; j += 4) weightedValues4(values, row.valueAt, n, valueOff, d, scores, j * stride, stride, out, oo + j * d);
        }
        for (; j < count; j++) weightedValues(values, row.valueAt, n, valueOff, d, scores, j * stride, out, oo + j * d);
    }

    /** Scores of {@code heads} (4 or 1) query heads for every chunk, four chunks at a time, into {@code scores[so ..]}. */
    private static void vectorScores(Row row, float[] q, int qo, int heads, float[] keys, int keyOff, float scale, int so) {
        int[] c = row.chunks;
        int t = row.blockSize, chunks = row.chunkCount();
        int m = 0;
        if (heads == 4) {
            for (; m + 4 <= chunks; m += 4) {
                score4x4(q, qo, row.d, keys, c[m] + keyOff, c[m + 1] + keyOff, c[m + 2] + keyOff, c[m + 3] + keyOff, t,
                        scale, row.scores, so + m * VL, row.stride);
            }
            for (; m < chunks; m++) {
                for (int h = 0; h < 4; h++) score1x1(q, qo + h * row.d, row.d, keys, c[m] + keyOff, t, scale, row.scores, so + h * row.stride + m * VL);
            }
        } else {
            for (; m + 4 <= chunks; m += 4) {
                score1x4(q, qo, row.d, keys, c[m] + keyOff, c[m + 1] + keyOff, c[m + 2] + keyOff, c[m + 3] + keyOff, t,
                        scale, row.scores, so + m * VL);
            }
            for (; m < chunks; m++) score1x1(q, qo, row.d, keys, c[m] + keyOff, t, scale, row.scores, so + m * VL);
        }
    }

    /** Scores of {@code heads} query heads for chunk {@code m}, from its rotated keys (one head at a time). */
    private static void chunkScores(Row row, float[] q, int qo, int heads, int m, float scale) {
        for (int h = 0; h < heads; h++) {
            score1x1(q, qo + h * row.d, row.d, row.rotated, 0, VL, scale, row.scores, h * row.stride + m * VL);
        }
    }

    /**
     * Rotates the keys of one chunk ({@code keys[at + i * t]}, {@code VL} positions from {@code p0}) into
     * {@code rotated[i * VL]}: {@code x1 cos - x2 sin} and {@code x2 cos + x1 sin} per pair of halves, as rope() does.
     */
    private static void rotate(float[] keys, int at, int t, int d, KeyRotation rotation, int p0, float[] rotated) {
        int half = d / 2, stride = rotation.stride();
        float[] cos = rotation.cos(), sin = rotation.sin();
        for (int i = 0; i < half; i++) {
            FloatVector x1 = FloatVector.fromArray(FS, keys, at + i * t), x2 = FloatVector.fromArray(FS, keys, at + (i + half) * t);
            FloatVector c = FloatVector.fromArray(FS, cos, i * stride + p0), s = FloatVector.fromArray(FS, sin, i * stride + p0);
            x1.mul(c).sub(x2.mul(s)).intoArray(rotated, i * VL);
            x2.mul(c).add(x1.mul(s)).intoArray(rotated, (i + half) * VL);
        }
    }

    /** Scores one position at a time in scalar code (blocks that do not hold whole vectors of positions). */
    private static void scalarScores(Row row, float[] q, int qo, int count, float[] keys, int kvHead, float scale,
                                     KeyRotation rotation) {
        int d = row.d, half = d / 2, t = row.blockSize, keyOff = kvHead * d * t;
        float[] key = row.rotated;
        for (int p = 0; p < row.n; p++) {
            int at = row.keyAt[p] + keyOff;
            for (int i = 0; i < d; i++) key[i] = keys[at + i * t];
            if (rotation != null) {
                for (int i = 0; i < half; i++) {
                    float x1 = key[i], x2 = key[i + half];
                    int at2 = i * rotation.stride() + p;
                    float c = rotation.cos()[at2], s = rotation.sin()[at2];
                    key[i] = x1 * c - x2 * s;
                    key[i + half] = x2 * c + x1 * s;
                }
            }
            for (int j = 0; j < count; j++) {
                float s = 0;
                for (int i = 0; i < d; i++) s = Math.fma(q[qo + j * d + i], key[i], s);
                row.scores[j * row.stride + p] = s * scale;
            }
        }
    }

    /** Four heads by four chunks: {@code scores[so + h * stride + j * VL ..]} for head h, chunk j at {@code keys[cj + i * t]}. */
    private static void score4x4(float[] q, int qo, int d, float[] keys, int c0, int c1, int c2, int c3, int t, float scale,
                                 float[] scores, int so, int stride) {
        FloatVector a00 = FloatVector.zero(FS), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int q1 = qo + d, q2 = q1 + d, q3 = q2 + d;
        for (int i = 0, k = 0; i < d; i++, k += t) {
            FloatVector k0 = FloatVector.fromArray(FS, keys, c0 + k), k1 = FloatVector.fromArray(FS, keys, c1 + k);
            FloatVector k2 = FloatVector.fromArray(FS, keys, c2 + k), k3 = FloatVector.fromArray(FS, keys, c3 + k);
            FloatVector w = FloatVector.broadcast(FS, q[qo + i]);
            a00 = w.fma(k0, a00);
            a01 = w.fma(k1, a01);
            a02 = w.fma(k2, a02);
            a03 = w.fma(k3, a03);
            w = FloatVector.broadcast(FS, q[q1 + i]);
            a10 = w.fma(k0, a10);
            a11 = w.fma(k1, a11);
            a12 = w.fma(k2, a12);
            a13 = w.fma(k3, a13);
            w = FloatVector.broadcast(FS, q[q2 + i]);
            a20 = w.fma(k0, a20);
            a21 = w.fma(k1, a21);
            a22 = w.fma(k2, a22);
            a23 = w.fma(k3, a23);
            w = FloatVector.broadcast(FS, q[q3 + i]);
            a30 = w.fma(k0, a30);
            a31 = w.fma(k1, a31);
            a32 = w.fma(k2, a32);
            a33 = w.fma(k3, a33);
        }
        int s1 = so + stride, s2 = s1 + stride, s3 = s2 + stride;
        a00.mul(scale).intoArray(scores, so);
        a01.mul(scale).intoArray(scores, so + VL);
        a02.mul(scale).intoArray(scores, so + 2 * VL);
        a03.mul(scale).intoArray(scores, so + 3 * VL);
        a10.mul(scale).intoArray(scores, s1);
        a11.mul(scale).intoArray(scores, s1 + VL);
        a12.mul(scale).intoArray(scores, s1 + 2 * VL);
        a13.mul(scale).intoArray(scores, s1 + 3 * VL);
        a20.mul(scale).intoArray(scores, s2);
        a21.mul(scale).intoArray(scores, s2 + VL);
        a22.mul(scale).intoArray(scores, s2 + 2 * VL);
        a23.mul(scale).intoArray(scores, s2 + 3 * VL);
        a30.mul(scale).intoArray(scores, s3);
        a31.mul(scale).intoArray(scores, s3 + VL);
        a32.mul(scale).intoArray(scores, s3 + 2 * VL);
        a33.mul(scale).intoArray(scores, s3 + 3 * VL);
    }

    /** One head by four chunks (batch-1 decode, and machines with 16 vector registers). */
    private static void score1x4(float[] q, int qo, int d, float[] keys, int c0, int c1, int c2, int c3, int t, float scale,
                                 float[] scores, int so) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0, k = 0; i < d; i++, k += t) {
            FloatVector w = FloatVector.broadcast(FS, q[qo + i]);
            a0 = w.fma(FloatVector.fromArray(FS, keys, c0 + k), a0);
            a1 = w.fma(FloatVector.fromArray(FS, keys, c1 + k), a1);
            a2 = w.fma(FloatVector.fromArray(FS, keys, c2 + k), a2);
            a3 = w.fma(FloatVector.fromArray(FS, keys, c3 + k), a3);
        }
        a0.mul(scale).intoArray(scores, so);
        a1.mul(scale).intoArray(scores, so + VL);
        a2.mul(scale).intoArray(scores, so + 2 * VL);
        a3.mul(scale).intoArray(scores, so + 3 * VL);
    }

    /** One head by one chunk. */
    private static void score1x1(float[] q, int qo, int d, float[] keys, int c0, int t, float scale, float[] scores, int so) {
        FloatVector a = FloatVector.zero(FS);
        for (int i = 0, k = 0; i < d; i++, k += t) a = FloatVector.broadcast(FS, q[qo + i]).fma(FloatVector.fromArray(FS, keys, c0 + k), a);
        a.mul(scale).intoArray(scores, so);
    }

    /** {@code scores[so..so+n)}, already scaled, replaced by their softmax. */
    private static void softmax(float[] scores, int so, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int p = so; p < so + n; p++) if (scores[p] > max) max = scores[p];
        int full = so + FS.loopBound(n);
        FloatVector sumV = FloatVector.zero(FS);
        int p = so;
        for (; p < full; p += VL) {
            FloatVector e = Lanes.exp(FloatVector.fromArray(FS, scores, p).sub(max));
            e.intoArray(scores, p);
            sumV = sumV.add(e);
        }
        float sum = Lanes.sum(sumV);
        for (; p < so + n; p++) {
            float e = (float) Math.exp(scores[p] - max);
            scores[p] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (p = so; p < so + n; p++) scores[p] *= inv;
    }

    /**
     * {@link #weightedValues} for four heads whose softmaxed scores start at {@code scores[so + h * stride]} and whose
     * outputs start at {@code out[oo + h * d]}, {@code d} a multiple of four vectors: each value vector loaded once
     * for the four, each output element the same FMA chain over the positions in order.
     */
    private static void weightedValues4(float[] values, int[] valueAt, int n, int headOff, int d, float[] scores, int so,
                                        int stride, float[] out, int oo) {
        int s1 = so + stride, s2 = s1 + stride, s3 = s2 + stride;
        for (int i = 0; i < d; i += 4 * VL) {
            FloatVector o00 = FloatVector.zero(FS), o01 = o00, o02 = o00, o03 = o00, o10 = o00, o11 = o00, o12 = o00, o13 = o00;
            FloatVector o20 = o00, o21 = o00, o22 = o00, o23 = o00, o30 = o00, o31 = o00, o32 = o00, o33 = o00;
            for (int p = 0; p < n; p++) {
                int vo = valueAt[p] + headOff + i;
                FloatVector v0 = FloatVector.fromArray(FS, values, vo), v1 = FloatVector.fromArray(FS, values, vo + VL);
                FloatVector v2 = FloatVector.fromArray(FS, values, vo + 2 * VL), v3 = FloatVector.fromArray(FS, values, vo + 3 * VL);
                FloatVector w = FloatVector.broadcast(FS, scores[so + p]);
                o00 = v0.fma(w, o00);
                o01 = v1.fma(w, o01);
                o02 = v2.fma(w, o02);
                o03 = v3.fma(w, o03);
                w = FloatVector.broadcast(FS, scores[s1 + p]);
                o10 = v0.fma(w, o10);
                o11 = v1.fma(w, o11);
                o12 = v2.fma(w, o12);
                o13 = v3.fma(w, o13);
                w = FloatVector.broadcast(FS, scores[s2 + p]);
                o20 = v0.fma(w, o20);
                o21 = v1.fma(w, o21);
                o22 = v2.fma(w, o22);
                o23 = v3.fma(w, o23);
                w = FloatVector.broadcast(FS, scores[s3 + p]);
                o30 = v0.fma(w, o30);
                o31 = v1.fma(w, o31);
                o32 = v2.fma(w, o32);
                o33 = v3.fma(w, o33);
            }
            int a = oo + i, b = a + d, c = b + d, e = c + d;
            o00.intoArray(out, a);
            o01.intoArray(out, a + VL);
            o02.intoArray(out, a + 2 * VL);
            o03.intoArray(out, a + 3 * VL);
            o10.intoArray(out, b);
            o11.intoArray(out, b + VL);
            o12.intoArray(out, b + 2 * VL);
            o13.intoArray(out, b + 3 * VL);
            o20.intoArray(out, c);
            o21.intoArray(out, c + VL);
            o22.intoArray(out, c + 2 * VL);
            o23.intoArray(out, c + 3 * VL);
            o30.intoArray(out, e);
            o31.intoArray(out, e + VL);
            o32.intoArray(out, e + 2 * VL);
            o33.intoArray(out, e + 3 * VL);
        }
    }

    /** {@code out[oo..oo+d)} = scores v over the positions, the scores at {@code scores[so..]} already softmaxed. */
    private static void weightedValues(float[] values, int[] valueAt, int n, int headOff, int d, float[] scores, int so,
                                       float[] out, int oo) {
        int p;
        // eight vectors of the output at a time, held in registers over all positions: each element is still one FMA
        // chain over the positions in order, as a load-add-store per position would give, without the store in the chain
        int i = 0;
        for (; i + 8 * VL <= d; i += 8 * VL) {
            FloatVector o0 = FloatVector.zero(FS), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
            for (p = 0; p < n; p++) {
                FloatVector w = FloatVector.broadcast(FS, scores[so + p]);
                int vo = valueAt[p] + headOff + i;
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
            for (p = 0; p < n; p++) o0 = FloatVector.fromArray(FS, values, valueAt[p] + headOff + i).fma(FloatVector.broadcast(FS, scores[so + p]), o0);
            o0.intoArray(out, oo + i);
        }
        for (; i < d; i++) {
            float o = 0f;
            for (p = 0; p < n; p++) o = Math.fma(values[valueAt[p] + headOff + i], scores[so + p], o);
            out[oo + i] = o;
        }
    }
}
