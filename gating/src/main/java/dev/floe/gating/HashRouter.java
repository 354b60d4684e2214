package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.Arrays;

/**
 * Hash layers (Roller et al. 2021): a token's experts depend only on its id, never on the logits, so routing cannot
 * collapse and needs no balancing; the price is that experts cannot specialise by context. Each layer ranks its experts
 * by the 64-bit key
 * <pre>
 *   a     = mix(seed + G * layer)
 *   b     = mix(a + G * tokenId)
 *   key_e = mix(b + G * e)          (mix = SplitMix64's finaliser, G = 0x9E3779B97F4A7C15)
 * </pre>
 * and takes the k smallest keys (as unsigned numbers; ties, never seen in practice, to the lower expert), weights
 * {@code 1/k}. Mixing in the layer gives every layer its own partition of the vocabulary.
 */
public final class HashRouter implements Router {
    private final int k;
    private final long seed;

    /**
     * @param k    experts per token
     * @param seed selects the hash function
     */
    public HashRouter(int k, long seed) {
        if (k < 1) throw new IllegalArgumentException("hash: k = " + k);
        this.k = k;
        this.seed = seed;
    }

    @Override
    public String name() {
        return HashRouterProvider.NAME;
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int experts = input.experts();
        if (tokens == 0) return new RoutingDecision(new int[0][], new float[0][]);
        if (k > experts) throw new IllegalArgumentException("hash: k = " + k + " for " + experts + " experts");
        long layerKey = SplitMix64.mix(seed + SplitMix64.GOLDEN * input.layer());
        int[][] chosen = new int[tokens][];
        float[][] weights = new float[tokens][];
        long[] key = new long[experts];
        Integer[] order = new Integer[experts];
        for (int t = 0; t < tokens; t++) {
            long tokenKey = SplitMix64.mix(layerKey + SplitMix64.GOLDEN * input.tokenIds()[t]);
            for (int e = 0; e < experts; e++) {
                key[e] = SplitMix64.mix(tokenKey + SplitMix64.GOLDEN * e);
                order[e] = e;
            }
            Arrays.sort(order, (x, y) -> Long.compareUnsigned(key[x], key[y])); // stable: ties keep the lower expert
            chosen[t] = new int[k];
            for (int j = 0; j < k; j++) chosen[t][j] = order[j];
            weights[t] = new float[k];
            Arrays.fill(weights[t], 1f / k);
        }
        return new RoutingDecision(chosen, weights);
    }
}
