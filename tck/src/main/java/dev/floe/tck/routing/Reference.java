package dev.floe.tck.routing;

import dev.floe.api.RoutingDecision;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Plain float64 building blocks of the oracles. Conventions every strategy shares: a NaN logit is minus infinity;
 * if every logit is minus infinity the probabilities are uniform; logits of plus infinity share all the mass; ranking
 * is by value, larger first, ties to the lower index.
 */
final class Reference {
    private Reference() {
    }

    /** Softmax in float64. */
    static double[] softmax(float[] logits) {
        int n = logits.length;
        double[] x = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            x[i] = Float.isNaN(logits[i]) ? Double.NEGATIVE_INFINITY : logits[i];
            max = Math.max(max, x[i]);
        }
        double[] p = new double[n];
        if (max == Double.NEGATIVE_INFINITY) {
            for (int i = 0; i < n; i++) p[i] = 1.0 / n;
            return p;
        }
        if (max == Double.POSITIVE_INFINITY) {
            int count = 0;
            for (double v : x) if (v == max) count++;
            for (int i = 0; i < n; i++) p[i] = x[i] == max ? 1.0 / count : 0.0;
            return p;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(x[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) p[i] = p[i] / sum;
        return p;
    }

    /** All indices of {@code values}, larger value first, ties to the lower index (NaN must be mapped away first). */
    static List<Integer> ranking(double[] values) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < values.length; i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> values[i]).reversed().thenComparing(i -> i));
        return order;
    }

    /** The first {@code k} of {@link #ranking}. */
    static int[] topK(double[] values, int k) {
        return ranking(values).subList(0, k).stream().mapToInt(Integer::intValue).toArray();
    }

    /** An integer parameter or the default. */
    static int intParam(Map<String, String> params, String key, int fallback) {
        return params.containsKey(key) ? Integer.parseInt(params.get(key).trim()) : fallback;
    }

    /** A real parameter or the default. */
    static double doubleParam(Map<String, String> params, String key, double fallback) {
        return params.containsKey(key) ? Double.parseDouble(params.get(key).trim()) : fallback;
    }

    /** A 64-bit parameter or the default. */
    static long longParam(Map<String, String> params, String key, long fallback) {
        return params.containsKey(key) ? Long.parseLong(params.get(key).trim()) : fallback;
    }

    /** SplitMix64's output function. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** SplitMix64's increment. */
    static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    /** Packs double lists into a decision. */
    static RoutingDecision decision(List<List<Integer>> experts, List<List<Double>> weights) {
        int n = experts.size();
        int[][] e = new int[n][];
        float[][] w = new float[n][];
        for (int t = 0; t < n; t++) {
            e[t] = experts.get(t).stream().mapToInt(Integer::intValue).toArray();
            w[t] = new float[weights.get(t).size()];
            for (int j = 0; j < w[t].length; j++) w[t][j] = (float) (double) weights.get(t).get(j);
        }
        return new RoutingDecision(e, w);
    }
}
