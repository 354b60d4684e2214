package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Spec section 4: softmax over all experts, the k most likely, renormalised when the model says so. */
public final class SoftmaxTopKOracle implements RouterOracle {
    @Override
    public String name() {
        return "softmax-topk";
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("k", "1"), Map.of("k", "3"), Map.of("k", "5"));
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        int k = Reference.intParam(params, "k", config.topK());
        return input -> {
            List<List<Integer>> experts = new ArrayList<>();
            List<List<Double>> weights = new ArrayList<>();
            for (float[] row : input.logits()) {
                double[] p = Reference.softmax(row);
                int[] top = Reference.topK(p, k);
                double sum = 0;
                for (int e : top) sum += p[e];
                List<Integer> es = new ArrayList<>();
                List<Double> ws = new ArrayList<>();
                for (int e : top) {
                    es.add(e);
                    ws.add(input.renormalize() ? p[e] / sum : p[e]);
                }
                experts.add(es);
                weights.add(ws);
            }
            return Reference.decision(experts, weights);
        };
    }
}
