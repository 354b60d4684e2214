package example.router;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.tck.routing.RouterOracle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The float64 reference of {@link TopPProvider}, written from its definition. A threshold router: a token whose
 * cumulative probability lands within rounding of p may take one expert more or less in float32, so up to 5% of a
 * call's tokens may differ ({@link Tolerance#threshold}).
 */
public final class TopPOracle implements RouterOracle {
    @Override
    public String name() {
        return TopPProvider.NAME;
    }

    @Override
    public List<Map<String, String>> parameterSets() {
        return List.of(Map.of(), Map.of("p", "0.5"), Map.of("p", "0.95", "max", "3"), Map.of("p", "1"));
    }

    @Override
    public Tolerance tolerance() {
        return Tolerance.threshold(0.05);
    }

    @Override
    public Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params) {
        double p = Double.parseDouble(params.getOrDefault("p", "0.8"));
        int max = Integer.parseInt(params.getOrDefault("max", String.valueOf(config.numExperts())));
        return in -> {
            int[][] experts = new int[in.tokens()][];
            float[][] weights = new float[in.tokens()][];
            for (int t = 0; t < in.tokens(); t++) {
                float[] l = in.logits()[t];
                double top = Double.NEGATIVE_INFINITY;
                for (float v : l) if (!Float.isNaN(v)) top = Math.max(top, v);
                List<Integer> chosen = new ArrayList<>();
                double covered = 0;
                if (top > Double.NEGATIVE_INFINITY) {
                    double[] prob = new double[l.length];
                    double sum = 0;
                    for (int i = 0; i < l.length; i++) sum += prob[i] = Float.isNaN(l[i]) ? 0 : Math.exp(l[i] - top);
                    boolean[] used = new boolean[l.length];
                    while (chosen.size() < max && covered < p - TopPProvider.SLACK) {
                        int best = -1;
                        for (int i = 0; i < l.length; i++) if (!used[i] && (best < 0 || prob[i] > prob[best])) best = i;
                        used[best] = true;
                        chosen.add(best);
                        covered += prob[best] / sum;
                    }
                    experts[t] = chosen.stream().mapToInt(Integer::intValue).toArray();
                    weights[t] = new float[chosen.size()];
                    for (int j = 0; j < chosen.size(); j++) weights[t][j] = (float) (prob[chosen.get(j)] / sum / covered);
                } else {
                    experts[t] = new int[0];
                    weights[t] = new float[0];
                }
            }
            return new RoutingDecision(experts, weights);
        };
    }
}
