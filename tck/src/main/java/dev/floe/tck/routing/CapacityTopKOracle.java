package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Softmax top-k (renormalised as the model does, before any drop), then each expert keeps at most
 * {@code max(min_capacity, ceil(capacity_factor * tokens * k / experts))} of the tokens that chose it: those with the
 * highest probability for it, ties to the lower token. Dropped pairs leave the token's list; their mass is lost.
 */
public final class CapacityTopKOracle implements RouterOracle {
    @Override
    public String name() {
        return "capacity-topk";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("capacity_factor", "0.5"), Map.of("capacity_factor", "1.25", "k", "3"),
                Map.of("capacity_factor", "0.25", "min_capacity", "2"), Map.of("capacity_factor", "4"),
                Map.of("k", "1", "capacity_factor", "0.75"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        int k = Reference.intParam(params, "k", config.topK());
        double factor = Reference.doubleParam(params, "capacity_factor", 1.0);
        int minCapacity = Reference.intParam(params, "min_capacity", 0);
        return input -> {
            int tokens = input.tokens();
            int experts = input.experts();
            double[][] p = new double[tokens][];
            int[][] top = new int[tokens][];
            for (int t = 0; t < tokens; t++) {
                p[t] = Reference.softmax(input.logits()[t]);
                top[t] = Reference.topK(p[t], k);
            }
            int capacity = Math.max(minCapacity, (int) Math.ceil(factor * tokens * k / experts));
            boolean[][] kept = new boolean[tokens][experts];
            for (int e = 0; e < experts; e++) {
                List<Integer> claimants = new ArrayList<>();
                for (int t = 0; t < tokens; t++) {
                    for (int c : top[t]) if (c == e) claimants.add(t);
                }
                double[] priority = new double[tokens];
                for (int t = 0; t < tokens; t++) priority[t] = claimants.contains(t) ? p[t][e] : Double.NEGATIVE_INFINITY;
                List<Integer> ranked = Reference.ranking(priority);
                for (int i = 0; i < Math.min(capacity, claimants.size()); i++) kept[ranked.get(i)][e] = true;
            }
            List<List<Integer>> chosen = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            for (int t = 0; t < tokens; t++) {
                double sum = 0;
                for (int e : top[t]) sum += p[t][e];
                List<Integer> es = new ArrayList<>();
                List<Double> ws = new ArrayList<>();
                for (int e : top[t]) {
                    if (!kept[t][e]) continue;
                    es.add(e);
                    ws.add(input.renormalize() ? p[t][e] / sum : p[t][e]);
                }
                chosen.add(es);
                weights.add(ws);
            }
            return Reference.decision(chosen, weights);
        };
    }
}
