package example.router;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.Parameters;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/**
 * {@code top-p:p=0.8,max=4}: per token, the fewest experts (most probable first, ties to the lower index) whose softmax
 * probabilities sum to at least p, at most {@code max}; weights are their probabilities renormalised. NaN logits
 * count as minus infinity; a token whose logits are all NaN goes to no expert. Computed in float32.
 */
public final class TopPProvider implements RouterProvider {
    public static final String NAME = "top-p";
    /** Cumulative probability within this of p counts as reaching it, so float32 and float64 agree on exact ties. */
    static final double SLACK = 1e-6;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "nucleus routing: the fewest experts whose probabilities reach p (an example of an out-of-tree router)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(new ParameterSpec("p", ParameterSpec.DOUBLE, "0.8", "probability mass to cover, in (0, 1]"),
                new ParameterSpec("max", ParameterSpec.INT, "experts", "most experts per token"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters("router " + NAME, params, parameters());
        double mass = p.doubleAbove("p", 0.8, 0, 1);
        int max = p.intValue("max", config.numExperts(), 1, config.numExperts());
        return new Router() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public RoutingDecision route(RoutingInput in) {
                int n = in.tokens();
                int[][] experts = new int[n][];
                float[][] weights = new float[n][];
                for (int t = 0; t < n; t++) {
                    float[] logits = in.logits()[t];
                    int e = logits.length;
                    float top = Float.NEGATIVE_INFINITY;
                    for (float l : logits) if (l > top) top = l;
                    if (top == Float.NEGATIVE_INFINITY) { // every logit NaN or -inf: no expert
                        experts[t] = new int[0];
                        weights[t] = new float[0];
                        continue;
                    }
                    float[] prob = new float[e];
                    float sum = 0;
                    for (int i = 0; i < e; i++) sum += prob[i] = Float.isNaN(logits[i]) ? 0 : (float) Math.exp(logits[i] - top);
                    Integer[] order = new Integer[e];
                    for (int i = 0; i < e; i++) {
                        prob[i] /= sum;
                        order[i] = i;
                    }
                    java.util.Arrays.sort(order, (a, b) -> prob[a] != prob[b] ? Float.compare(prob[b], prob[a]) : Integer.compare(a, b));
                    int k = 0;
                    float covered = 0;
                    while (k < max && covered < mass - SLACK) covered += prob[order[k++]];
                    experts[t] = new int[k];
                    weights[t] = new float[k];
                    for (int j = 0; j < k; j++) {
                        experts[t][j] = order[j];
                        weights[t][j] = prob[order[j]] / covered;
                    }
                }
                return new RoutingDecision(experts, weights);
            }
        };
    }
}
