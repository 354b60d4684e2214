package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Builders shared by the gating tests. */
final class Inputs {
    private Inputs() {
    }

    static ModelConfig config(int experts, int topK) {
        return new ModelConfig(ModelFamily.ARCTIC, 64, 16, 8, 2, 2, 1, 8, experts, topK, 1, true, 10000, 1e-5, 128,
                false, 1, List.of(2), "float32", null);
    }

    static RoutingInput input(int layer, int topK, boolean renormalize, float[]... logits) {
        int[] ids = new int[logits.length];
        int[] pos = new int[logits.length];
        for (int t = 0; t < ids.length; t++) {
            ids[t] = 10 + t;
            pos[t] = t;
        }
        return new RoutingInput(layer, logits, ids, pos, topK, renormalize);
    }

    static RoutingInput input(int topK, float[]... logits) {
        return input(0, topK, true, logits);
    }

    static RoutingInput withIds(int[] ids, int experts, int topK) {
        float[][] logits = new float[ids.length][experts];
        int[] pos = new int[ids.length];
        for (int t = 0; t < ids.length; t++) pos[t] = t;
        return new RoutingInput(0, logits, ids, pos, topK, true);
    }

    static float[][] gaussian(long seed, int tokens, int experts) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] l = new float[tokens][experts];
        for (float[] row : l) for (int e = 0; e < experts; e++) row[e] = (float) (r.nextDouble() * 6 - 3);
        return l;
    }

    static float[] row(double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    static float[][] repeat(float[] row, int times) {
        float[][] l = new float[times][];
        for (int t = 0; t < times; t++) l[t] = row.clone();
        return l;
    }

    static double sum(float[] w) {
        double s = 0;
        for (float x : w) s += x;
        return s;
    }

    static boolean distinct(int[] experts) {
        return Arrays.stream(experts).distinct().count() == experts.length;
    }

    static long[] load(RoutingDecision d, int experts) {
        long[] n = new long[experts];
        for (int[] row : d.experts()) for (int e : row) n[e]++;
        return n;
    }
}
