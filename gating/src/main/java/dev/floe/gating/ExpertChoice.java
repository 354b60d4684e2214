package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

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
        List<List<Integer>> byToken = new ArrayList<>(tokens);
        for (int t = 0; t < tokens; t++) byToken.add(new ArrayList<>());
        Integer[] order = new Integer[tokens];
        for (int e = 0; e < experts; e++) {
            int expert = e;
            for (int t = 0; t < tokens; t++) order[t] = t;
            // stable sort: equal probabilities keep ascending token order
            Arrays.sort(order, Comparator.comparing((Integer t) -> p[t][expert], TopK::compareDescending));
            for (int i = 0; i < c; i++) byToken.get(order[i]).add(expert);
        }
        int[][] chosen = new int[tokens][];
        float[][] weights = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            float[] pt = p[t];
            // experts were added in ascending order, so a stable sort breaks weight ties by the lower expert
            List<Integer> list = byToken.get(t);
            list.sort(Comparator.comparing((Integer e) -> pt[e], TopK::compareDescending));
            chosen[t] = list.stream().mapToInt(Integer::intValue).toArray();
            weights[t] = new float[chosen[t].length];
            for (int j = 0; j < chosen[t].length; j++) weights[t][j] = pt[chosen[t][j]];
        }
        return new RoutingDecision(chosen, weights);
    }
}
