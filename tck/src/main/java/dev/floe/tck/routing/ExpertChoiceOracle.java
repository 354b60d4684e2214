package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Expert choice (Zhou et al. 2022): each expert takes the {@code c = min(tokens, max(1, round(capacity_factor *
 * tokens * k / experts)))} tokens with the highest softmax probability for it (ties to the lower token); a token's
 * experts are listed by probability, larger first, ties to the lower expert, each weighted by that probability.
 */
public final class ExpertChoiceOracle implements RouterOracle {
    @Override
    public String name() {
        return "expert-choice";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("capacity_factor", "0.5"), Map.of("capacity_factor", "2", "k", "1"),
                Map.of("capacity_factor", "1.25", "k", "3"), Map.of("capacity_factor", "100"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        double factor = Reference.doubleParam(params, "capacity_factor", 1.0);
        int k = Reference.intParam(params, "k", config.topK());
        return input -> {
            int tokens = input.tokens();
            int experts = input.experts();
            double[][] p = new double[tokens][];
            for (int t = 0; t < tokens; t++) p[t] = Reference.softmax(input.logits()[t]);
            int c = tokens == 0 ? 0 : (int) Math.min(tokens, Math.max(1, Math.round(factor * tokens * k / experts)));
            double[][] weight = new double[tokens][experts];
            boolean[][] taken = new boolean[tokens][experts];
            for (int e = 0; e < experts; e++) {
                double[] column = new double[tokens];
                for (int t = 0; t < tokens; t++) column[t] = p[t][e];
                for (int t : Reference.topK(column, c)) {
                    taken[t][e] = true;
                    weight[t][e] = p[t][e];
                }
            }
            List<List<Integer>> chosen = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            for (int t = 0; t < tokens; t++) {
                double[] mine = new double[experts];
                for (int e = 0; e < experts; e++) mine[e] = taken[t][e] ? weight[t][e] : -1;
                List<Integer> es = new ArrayList<>();
                List<Double> ws = new ArrayList<>();
                for (int e : Reference.ranking(mine)) {
                    if (!taken[t][e]) break; // untaken experts rank below every probability
                    es.add(e);
                    ws.add(weight[t][e]);
                }
                chosen.add(es);
                weights.add(ws);
            }
            return Reference.decision(chosen, weights);
        };
    }
}
