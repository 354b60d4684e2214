package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.Arrays;

/**
 * The uniform baseline: k distinct experts drawn at random for every token, weights {@code 1/k}. It shows what the
 * trained router is worth. The draws are a partial Fisher-Yates shuffle of {@code 0..E-1} fed by one SplitMix64
 * stream seeded with {@code seed}: for draw j, {@code swap(perm[j], perm[j + next() mod (E - j)])} (unsigned
 * remainder); tokens and layers consume the stream in call order, so a seed and a call sequence fix every choice.
 */
public final class RandomRouter implements Router {
    private final int k;
    private final SplitMix64 random;

    /**
     * @param k    experts per token
     * @param seed the stream's seed
     */
    public RandomRouter(int k, long seed) {
        if (k < 1) throw new IllegalArgumentException("random: k = " + k);
        this.k = k;
        this.random = new SplitMix64(seed);
    }

    @Override
    public String name() {
        return RandomRouterProvider.NAME;
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int experts = input.experts();
        if (tokens == 0) return new RoutingDecision(new int[0][], new float[0][]);
        if (k > experts) throw new IllegalArgumentException("random: k = " + k + " for " + experts + " experts");
        int[][] chosen = new int[tokens][];
        float[][] weights = new float[tokens][];
        int[] perm = new int[experts];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) perm[e] = e;
            for (int j = 0; j < k; j++) {
                int r = j + random.nextInt(experts - j);
                int swap = perm[j];
                perm[j] = perm[r];
                perm[r] = swap;
            }
            chosen[t] = Arrays.copyOf(perm, k);
            weights[t] = new float[k];
            Arrays.fill(weights[t], 1f / k);
        }
        return new RoutingDecision(chosen, weights);
    }
}
