package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.Arrays;

/**
 * Expert-choice routing (Zhou et al. 2022): the experts choose the tokens. Each expert takes the {@code c} tokens of
 * the batch with the highest softmax probability for it (ties: lower token index), {@code c = max(1,
 * round(capacity_factor * tokens * k / experts))} capped at the batch; a token's weight for an expert is that
 * probability, unnormalised. Load is perfectly even by construction, but a token may get any number of experts, none
 * included. A decode step of one token is routed to every expert (c = 1): expert choice is a batch strategy.
 */
public final class ExpertChoice implements Router {
    private final double capacityFactor;
    private final int k;

    /**
     * @param capacityFactor tokens per expert over an even share of {@code tokens * k / experts}
     * @param k              the experts per token the capacity is sized for
     */
    public ExpertChoice(double capacityFactor, int k) {
        if (!(capacityFactor > 0) || Double.isInfinite(capacityFactor)) {
            throw new IllegalArgumentException("expert-choice: capacity_factor = " + capacityFactor);
        }
        if (k < 1) throw new IllegalArgumentException("expert-choice: k = " + k);
        this.capacityFactor = capacityFactor;
        this.k = k;
    }

    @Override
    public String name() {
        return ExpertChoiceProvider.NAME;
    }

    /** Tokens each expert takes from a batch of {@code tokens}. */
    public int capacity(int tokens, int experts) {
        if (tokens == 0) return 0;
        long c = Math.max(1, Math.round(capacityFactor * tokens * k / experts));
        return (int) Math.min(c, tokens);
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int experts = input.experts();
        float[][] p = new float[tokens][];
        for (int t = 0; t < tokens; t++) p[t] = Softmax.of(input.logits()[t]);
        int c = capacity(tokens, experts);
        int[][] picks = new int[tokens][experts];
        int[] count = new int[tokens];
        long[] keys = new long[tokens];
        for (int e = 0; e < experts; e++) {
            // probabilities are finite and >= +0, where float bits order like the values: one primitive sort puts
            // the largest probability first and, among equals, the lower token first
            for (int t = 0; t < tokens; t++) {
                keys[t] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits(p[t][e])) << 32) | t;
            }
            Arrays.sort(keys);
            for (int i = 0; i < c; i++) {
                int t = (int) keys[i];
                picks[t][count[t]++] = e;
            }
        }
        int[][] chosen = new int[tokens][];
        float[][] weights = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            int n = count[t];
            int[] es = Arrays.copyOf(picks[t], n);
            float[] ws = new float[n];
            // insertion sort by weight, larger first; experts arrived in ascending order, so ties keep the lower one
            for (int i = 0; i < n; i++) {
                int e = es[i];
                float w = p[t][e];
                int j = i;
                while (j > 0 && ws[j - 1] < w) {
                    es[j] = es[j - 1];
                    ws[j] = ws[j - 1];
                    j--;
                }
                es[j] = e;
                ws[j] = w;
            }
            chosen[t] = es;
            weights[t] = ws;
        }
        return new RoutingDecision(chosen, weights);
    }
}
