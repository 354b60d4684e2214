package dev.floe.api;

import java.util.Arrays;

/**
 * A routing rule simple enough for a backend to run next to the experts, without the router logits coming back to
 * the host. A {@link Router} that follows one of these rules says so through {@link Router#deviceRouting}; the
 * backend then routes on its device, and {@link #route} is the reference every backend must reproduce exactly (the
 * same experts, in the same order, with the same float32 weights).
 *
 * <p>Shared rules: ties go to the lower expert index; a NaN logit ranks below every number.
 */
public sealed interface RoutingSpec {
    /** Experts per token. */
    int k();

    /** Routes one token: writes its {@link #k()} experts (best first) and their weights. */
    void routeRow(float[] logits, int[] experts, float[] weights);

    /** Routes every row of {@code logits}, {@code [tokens][experts]}. */
    default RoutingDecision route(float[][] logits) {
        int[][] experts = new int[logits.length][];
        float[][] weights = new float[logits.length][];
        for (int t = 0; t < logits.length; t++) {
            int kk = Math.min(k(), logits[t].length);
            experts[t] = new int[kk];
            weights[t] = new float[kk];
            routeRow(logits[t], experts[t], weights[t]);
        }
        return new RoutingDecision(experts, weights);
    }

    /**
     * Mixtral/Arctic routing (spec section 4): softmax over all experts in float32 (NaN counts as minus infinity; if
     * every logit is minus infinity or NaN the distribution is uniform; +infinity logits share all the mass), the k
     * most likely, their probabilities divided by their float32 sum when {@code renormalize}.
     */
    record SoftmaxTopK(int k, boolean renormalize) implements RoutingSpec {
        public SoftmaxTopK {
            if (k < 1) throw new IllegalArgumentException("softmax-topk: k = " + k + " is not positive");
        }

        @Override
        public void routeRow(float[] logits, int[] experts, float[] weights) {
            float[] p = softmax(logits);
            topK(toDoubles(p), experts);
            float sum = 0;
            for (int j = 0; j < experts.length; j++) {
                weights[j] = p[experts[j]];
                sum += weights[j];
            }
            if (renormalize && sum > 0) {
                for (int j = 0; j < weights.length; j++) weights[j] /= sum;
            }
        }
    }

    /**
     * DeepSeek-V3 style selection: scores {@code s_e = sigmoid(logit_e)} in float64 (a NaN logit scores 0 and ranks
     * last), experts <em>selected</em> by {@code s_e + bias_e} and <em>weighted</em> by their scores normalised to sum
     * to one (equal weights if the chosen scores sum to 0).
     */
    record SigmoidTopK(int k, double[] bias) implements RoutingSpec {
        public SigmoidTopK {
            if (k < 1 || k > bias.length) {
                throw new IllegalArgumentException("sigmoid-topk: k = " + k + " for " + bias.length + " experts");
            }
            bias = bias.clone();
        }

        @Override
        public double[] bias() {
            return bias.clone();
        }

        /** The selection bias of expert {@code e}, without copying. */
        public double bias(int e) {
            return bias[e];
        }

        @Override
        public void routeRow(float[] logits, int[] experts, float[] weights) {
            if (logits.length != bias.length) {
                throw new IllegalArgumentException("sigmoid-topk: " + logits.length + " experts but the bias has " + bias.length);
            }
            double[] score = new double[logits.length];
            double[] key = new double[logits.length];
            for (int e = 0; e < logits.length; e++) {
                score[e] = Float.isNaN(logits[e]) ? 0 : 1 / (1 + Math.exp(-(double) logits[e]));
                key[e] = Float.isNaN(logits[e]) ? Double.NaN : score[e] + bias[e];
            }
            topK(key, experts);
            double sum = 0;
            for (int e : experts) sum += score[e];
            for (int j = 0; j < experts.length; j++) {
                weights[j] = sum > 0 ? (float) (score[experts[j]] / sum) : 1f / experts.length;
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SigmoidTopK s && s.k == k && Arrays.equals(s.bias, bias);
        }

        @Override
        public int hashCode() {
            return 31 * k + Arrays.hashCode(bias);
        }

        @Override
        public String toString() {
            return "SigmoidTopK[k=" + k + ", bias=" + Arrays.toString(bias) + "]";
        }
    }

    /** Router probabilities in float32, as {@link SoftmaxTopK} defines them (the one implementation of the rule). */
    static float[] softmax(float[] logits) {
        int n = logits.length;
        float[] p = new float[n];
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) if (v > max) max = v; // NaN never compares greater
        if (max == Float.NEGATIVE_INFINITY) {
            Arrays.fill(p, 1f / n);
            return p;
        }
        if (max == Float.POSITIVE_INFINITY) {
            int count = 0;
            for (float v : logits) if (v == max) count++;
            for (int i = 0; i < n; i++) p[i] = logits[i] == max ? 1f / count : 0f;
            return p;
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Float.isNaN(logits[i]) ? 0f : (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }

    /** The indices of the {@code k} largest scores, best first; ties to the lower index, NaN last. */
    static int[] topK(double[] scores, int k) {
        if (k < 0 || k > scores.length) throw new IllegalArgumentException("k = " + k + " for " + scores.length + " scores");
        int[] top = new int[k];
        topK(scores, top);
        return top;
    }

    private static void topK(double[] scores, int[] top) {
        int k = top.length;
        if (k > scores.length) throw new IllegalArgumentException("k = " + k + " for " + scores.length + " scores");
        int filled = 0;
        for (int i = 0; i < scores.length; i++) {
            // insertion into the sorted prefix; strict comparison keeps the lower index first on ties
            int pos = filled;
            while (pos > 0 && better(scores[i], scores[top[pos - 1]])) pos--;
            if (pos < k) {
                int moved = Math.min(filled, k - 1) - pos;
                System.arraycopy(top, pos, top, pos + 1, moved);
                top[pos] = i;
                filled = Math.min(filled + 1, k);
            }
        }
    }

    /** Whether {@code a} ranks strictly above {@code b}: larger first, NaN last. */
    private static boolean better(double a, double b) {
        if (Double.isNaN(a)) return false;
        return Double.isNaN(b) || a > b;
    }

    private static double[] toDoubles(float[] p) {
        double[] d = new double[p.length];
        for (int i = 0; i < d.length; i++) d[i] = p[i];
        return d;
    }
}
