package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The seeded uniform baseline: one SplitMix64 stream ({@code state += G; out = mix(state)}) from {@code seed}, consumed
 * token by token in call order; each token's k experts are a partial Fisher-Yates shuffle of {@code 0..E-1} with
 * {@code r = j + unsignedRemainder(out, E - j)}; weights 1/k.
 */
public final class RandomOracle implements RouterOracle {
    @Override
    public String name() {
        return "random";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("seed", "42"), Map.of("k", "5", "seed", "1"), Map.of("k", "1", "seed", "-9"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        int k = Reference.intParam(params, "k", config.topK());
        long[] state = {Reference.longParam(params, "seed", 0)};
        return input -> {
            List<List<Integer>> chosen = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            int experts = input.experts();
            for (int t = 0; t < input.tokens(); t++) {
                List<Integer> deck = new ArrayList<>();
                for (int e = 0; e < experts; e++) deck.add(e);
                for (int j = 0; j < k; j++) {
                    state[0] += Reference.GOLDEN_GAMMA;
                    long draw = Reference.mix64(state[0]);
                    int r = j + (int) Long.remainderUnsigned(draw, experts - j);
                    java.util.Collections.swap(deck, j, r);
                }
                chosen.add(new ArrayList<>(deck.subList(0, k)));
                List<Double> ws = new ArrayList<>();
                for (int j = 0; j < k; j++) ws.add(1.0 / k);
                weights.add(ws);
            }
            return Reference.decision(chosen, weights);
        };
    }
}
