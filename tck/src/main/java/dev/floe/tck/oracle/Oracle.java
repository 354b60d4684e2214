package dev.floe.tck.oracle;

import dev.floe.spi.AttentionBatch;

/**
 * The reference for every {@link dev.floe.spi.Backend} kernel, in float64 and written for obviousness, not speed.
 * Each method returns the exact-as-possible result; {@code *Magnitude} companions return, per element, the sum of the
 * absolute values of the terms that produced it, the scale against which float32 rounding error is measured.
 */
public final class Oracle {
    private Oracle() {
    }

    /** {@code out[r][o] = sum_i x[r][i] * W[o][i]}. */
    public static double[] matmul(float[] x, int rows, OracleWeight w) {
        double[] out = new double[rows * w.rows()];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < w.rows(); o++) {
                double sum = 0;
                for (int i = 0; i < w.cols(); i++) sum += (double) x[r * w.cols() + i] * w.get(o, i);
                out[r * w.rows() + o] = sum;
            }
        }
        return out;
    }

    /** {@code sum_i |x[r][i] * W[o][i]|}: the condition of each dot product. */
    public static double[] matmulMagnitude(float[] x, int rows, OracleWeight w) {
        double[] out = new double[rows * w.rows()];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < w.rows(); o++) {
                double sum = 0;
                for (int i = 0; i < w.cols(); i++) sum += Math.abs((double) x[r * w.cols() + i] * w.get(o, i));
                out[r * w.rows() + o] = sum;
            }
        }
        return out;
    }

    /** {@code w * x / sqrt(mean(x^2) + eps)} per row. */
    public static double[] rmsNorm(float[] x, OracleWeight w, double eps, int rows, int dim) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double inv = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) out[r * dim + i] = w.get(0, i) * x[r * dim + i] * inv;
        }
        return out;
    }

    /** Rotate-half RoPE: pair {@code (j, j + d/2)} of each head turns by {@code pos * theta^(-2j/d)}. */
    public static double[] rope(float[] x, int rows, int heads, int headDim, int[] positions, double theta) {
        double[] out = new double[x.length];
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int base = r * heads * headDim + h * headDim;
                for (int j = 0; j < half; j++) {
                    double angle = positions[r] * Math.pow(theta, -2.0 * j / headDim);
                    double a = x[base + j], b = x[base + j + half];
                    out[base + j] = a * Math.cos(angle) - b * Math.sin(angle);
                    out[base + j + half] = b * Math.cos(angle) + a * Math.sin(angle);
                }
                if ((headDim & 1) == 1) out[base + headDim - 1] = x[base + headDim - 1];
            }
        }
        return out;
    }

    /**
     * Causal attention over a KV store given as key and value rows by slot ({@code [slots, kvHeads * headDim]}):
     * query head h reads KV head {@code h / (heads / kvHeads)}; softmax with scale {@code 1/sqrt(headDim)}.
     */
    public static double[] attention(float[] q, float[][] keys, float[][] values, int kvHeads, int headDim,
                                     AttentionBatch batch, int blockSize) {
        int heads = batch.heads();
        int group = heads / kvHeads;
        double[] out = new double[batch.rows() * heads * headDim];
        for (int r = 0; r < batch.rows(); r++) {
            int pos = batch.position(r), seq = batch.sequenceOf(r);
            for (int h = 0; h < heads; h++) {
                int kvh = h / group;
                double[] scores = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    float[] k = keys[batch.slot(seq, p, blockSize)];
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double) q[(r * heads + h) * headDim + d] * k[kvh * headDim + d];
                    scores[p] = dot / Math.sqrt(headDim);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) sum += scores[p] = Math.exp(scores[p] - max);
                for (int p = 0; p <= pos; p++) {
                    float[] v = values[batch.slot(seq, p, blockSize)];
                    for (int d = 0; d < headDim; d++) out[(r * heads + h) * headDim + d] += scores[p] / sum * v[kvh * headDim + d];
                }
            }
        }
        return out;
    }

    /** The largest |q.k| / sqrt(headDim) over every causal (row, head, key) of the batch, for messages. */
    public static double largestScore(float[] q, float[][] keys, int kvHeads, int headDim, AttentionBatch batch, int blockSize) {
        int heads = batch.heads(), group = heads / kvHeads;
        double largest = 0;
        for (int r = 0; r < batch.rows(); r++) {
            for (int h = 0; h < heads; h++) {
                for (int p = 0; p <= batch.position(r); p++) {
                    float[] k = keys[batch.slot(batch.sequenceOf(r), p, blockSize)];
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double) q[(r * heads + h) * headDim + d] * k[h / group * headDim + d];
                    largest = Math.max(largest, Math.abs(dot / Math.sqrt(headDim)));
                }
            }
        }
        return largest;
    }

    /** {@code silu(g) * u}. */
    public static double[] swiglu(float[] gate, float[] up) {
        double[] out = new double[gate.length];
        for (int i = 0; i < out.length; i++) out[i] = gate[i] / (1 + Math.exp(-(double) gate[i])) * up[i];
        return out;
    }

    /** {@code a + b}. */
    public static double[] add(float[] a, float[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < out.length; i++) out[i] = (double) a[i] + b[i];
        return out;
    }

    /** {@code dst[i] = src[rows[i]]}. */
    public static double[] gatherRows(float[] src, int cols, int[] rows) {
        double[] out = new double[rows.length * cols];
        for (int i = 0; i < rows.length; i++) for (int c = 0; c < cols; c++) out[i * cols + c] = src[rows[i] * cols + c];
        return out;
    }

    /** {@code dst[rows[i]] += scales[i] * src[i]}, starting from {@code dst}. */
    public static double[] scatterAddRows(float[] src, int cols, int[] rows, float[] scales, float[] dst) {
        double[] out = new double[dst.length];
        for (int i = 0; i < dst.length; i++) out[i] = dst[i];
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < cols; c++) out[rows[i] * cols + c] += (double) scales[i] * src[i * cols + c];
        }
        return out;
    }

    /** The magnitude companion of {@link #scatterAddRows}. */
    public static double[] scatterAddMagnitude(float[] src, int cols, int[] rows, float[] scales, float[] dst) {
        double[] out = new double[dst.length];
        for (int i = 0; i < dst.length; i++) out[i] = Math.abs(dst[i]);
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < cols; c++) out[rows[i] * cols + c] += Math.abs((double) scales[i] * src[i * cols + c]);
        }
        return out;
    }

    /** {@code out[r] = table[ids[r]]} with the table's dtype and scale applied. */
    public static double[] embed(OracleWeight table, int[] ids) {
        double[] out = new double[ids.length * table.cols()];
        for (int r = 0; r < ids.length; r++) for (int c = 0; c < table.cols(); c++) out[r * table.cols() + c] = table.get(ids[r], c);
        return out;
    }
}
