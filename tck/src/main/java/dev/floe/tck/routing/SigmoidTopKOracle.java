package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * DeepSeek-V3 loss-free balancing: select by {@code sigmoid(logit) + bias}, weigh by the chosen sigmoid scores over
 * their sum (equal weights if that sum is 0); with {@code adapt} each layer's bias moves after every call by
 * {@code -gamma * sign(load - tokens * k / experts)}. A NaN logit has score 0 and ranks last.
 */
public final class SigmoidTopKOracle implements RouterOracle {
    @Override
    public String name() {
        return "sigmoid-topk";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("k", "1", "bias", "0.25"), Map.of("adapt", "true", "gamma", "0.01"),
                Map.of("adapt", "true", "gamma", "0.05", "k", "3"), Map.of("k", "5", "adapt", "true"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        int k = Reference.intParam(params, "k", config.topK());
        double gamma = Reference.doubleParam(params, "gamma", 0.001);
        boolean adapt = Boolean.parseBoolean(params.getOrDefault("adapt", "false"));
        double[] start = startingBias(params.getOrDefault("bias", "0"), config.numExperts());
        Map<Integer, double[]> biasOfLayer = new HashMap<>();
        return input -> {
            double[] bias = biasOfLayer.computeIfAbsent(input.layer(), l -> start.clone());
            int experts = input.experts();
            double[] load = new double[experts];
            List<List<Integer>> chosen = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            for (float[] row : input.logits()) {
                double[] score = new double[experts];
                double[] key = new double[experts];
                for (int e = 0; e < experts; e++) {
                    boolean nan = Float.isNaN(row[e]);
                    score[e] = nan ? 0.0 : 1.0 / (1.0 + Math.exp(-(double) row[e]));
                    key[e] = nan ? Double.NEGATIVE_INFINITY : score[e] + bias[e];
                }
                int[] top = Reference.topK(key, k);
                double sum = 0;
                for (int e : top) sum += score[e];
                List<Integer> es = new ArrayList<>();
                List<Double> ws = new ArrayList<>();
                for (int e : top) {
                    es.add(e);
                    ws.add(sum > 0 ? score[e] / sum : 1.0 / k);
                    load[e] += 1;
                }
                chosen.add(es);
                weights.add(ws);
            }
            if (adapt) {
                double mean = (double) input.tokens() * k / experts;
                for (int e = 0; e < experts; e++) {
                    if (load[e] > mean) bias[e] -= gamma;
                    else if (load[e] < mean) bias[e] += gamma;
                }
            }
            return Reference.decision(chosen, weights);
        };
    }

    private static double[] startingBias(String text, int experts) {
        String[] parts = text.split(",");
        double[] bias = new double[experts];
        for (int e = 0; e < experts; e++) bias[e] = Double.parseDouble(parts[parts.length == 1 ? 0 : e].trim());
        return bias;
    }
}
