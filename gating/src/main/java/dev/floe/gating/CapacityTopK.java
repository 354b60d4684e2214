package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Softmax top-k with a per-expert capacity, as GShard and DeepSpeed train: each expert takes at most
 * {@code max(min_capacity, ceil(capacity_factor * tokens * k / experts))} tokens of the batch. An expert over capacity
 * keeps the tokens with the highest router probability for it (ties: lower token index) and drops the others; a dropped
 * (token, expert) pair leaves the token's list.
 *
 * <p>Weights are renormalised (when the model renormalises) <em>before</em> dropping, so the mass of a dropped pair is
 * lost rather than handed to the token's surviving experts, as GShard and DeepSpeed do: a token that loses one of two
 * experts keeps only that expert's share, and a token that loses all of them passes through the residual path alone.
 */
public final class CapacityTopK implements Router {
    private final int k;
    private final double capacityFactor;
    private final int minCapacity;

    /**
     * @param k              experts per token
     * @param capacityFactor slack over a perfectly even load (&gt; 0)
     * @param minCapacity    the least capacity of an expert (&gt;= 0)
     */
    public CapacityTopK(int k, double capacityFactor, int minCapacity) {
        if (k < 1) throw new IllegalArgumentException("capacity-topk: k = " + k);
        if (!(capacityFactor > 0) || Double.isInfinite(capacityFactor)) {
            throw new IllegalArgumentException("capacity-topk: capacity_factor = " + capacityFactor);
        }
        if (minCapacity < 0) throw new IllegalArgumentException("capacity-topk: min_capacity = " + minCapacity);
        this.k = k;
        this.capacityFactor = capacityFactor;
        this.minCapacity = minCapacity;
    }

    @Override
    public String name() {
        return CapacityTopKProvider.NAME;
    }

    /** Tokens one expert may take from a batch of {@code tokens}. */
    public int capacity(int tokens, int experts) {
        return Math.max(minCapacity, (int) Math.ceil(capacityFactor * tokens * k / experts));
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int experts = input.experts();
        if (tokens == 0) return new RoutingDecision(new int[0][], new float[0][]);
        float[][] p = new float[tokens][];
        int[][] top = new int[tokens][];
        float[][] w = new float[tokens][];
        List<List<Integer>> queue = new ArrayList<>(experts);
        for (int e = 0; e < experts; e++) queue.add(new ArrayList<>());
        for (int t = 0; t < tokens; t++) {
            p[t] = Softmax.of(input.logits()[t]);
            top[t] = TopK.indices(p[t], k);
            w[t] = SoftmaxTopK.weights(p[t], top[t], input.renormalize());
            for (int e : top[t]) queue.get(e).add(t);
        }
        int capacity = capacity(tokens, experts);
        boolean[][] dropped = new boolean[tokens][k];
        for (int e = 0; e < experts; e++) {
            List<Integer> claimants = queue.get(e);
            if (claimants.size() <= capacity) continue;
            int expert = e;
            // stable sort: equal probabilities keep ascending token order
            claimants.sort(Comparator.comparing((Integer t) -> p[t][expert], TopK::compareDescending));
            for (int t : claimants.subList(capacity, claimants.size())) {
                for (int j = 0; j < k; j++) if (top[t][j] == expert) dropped[t][j] = true;
            }
        }
        int[][] experts2 = new int[tokens][];
        float[][] weights = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            int kept = 0;
            for (int j = 0; j < k; j++) if (!dropped[t][j]) kept++;
            experts2[t] = new int[kept];
            weights[t] = new float[kept];
            for (int j = 0, i = 0; j < k; j++) {
                if (dropped[t][j]) continue;
                experts2[t][i] = top[t][j];
                weights[t][i++] = w[t][j];
            }
        }
        return new RoutingDecision(experts2, weights);
    }
}
