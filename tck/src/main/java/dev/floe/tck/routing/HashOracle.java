package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Hash layers (Roller et al. 2021): with {@code a = mix(seed + G*layer)}, {@code b = mix(a + G*tokenId)} and
 * {@code key_e = mix(b + G*e)} (SplitMix64's mix and increment G), a token takes the k experts of smallest unsigned key,
 * weights 1/k. The logits are ignored.
 */
public final class HashOracle implements RouterOracle {
    @Override
    public String name() {
        return "hash";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("seed", "7"), Map.of("k", "5", "seed", "-3"), Map.of("k", "1", "seed", "123456789"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        int k = Reference.intParam(params, "k", config.topK());
        long seed = Reference.longParam(params, "seed", 0);
        long g = Reference.GOLDEN_GAMMA;
        return input -> {
            List<List<Integer>> chosen = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            long a = Reference.mix64(seed + g * input.layer());
            for (int t = 0; t < input.tokens(); t++) {
                long b = Reference.mix64(a + g * input.tokenIds()[t]);
                long[] key = new long[input.experts()];
                List<Integer> order = new ArrayList<>();
                for (int e = 0; e < key.length; e++) {
                    key[e] = Reference.mix64(b + g * e);
                    order.add(e);
                }
                order.sort(Comparator.comparing((Integer e) -> key[e], Long::compareUnsigned).thenComparing(e -> e));
                chosen.add(order.subList(0, k));
                List<Double> ws = new ArrayList<>();
                for (int j = 0; j < k; j++) ws.add(1.0 / k);
                weights.add(ws);
            }
            return Reference.decision(chosen, weights);
        };
    }
}
