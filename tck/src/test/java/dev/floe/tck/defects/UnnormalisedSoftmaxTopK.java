package dev.floe.tck.defects;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** The real softmax-topk, except that the chosen experts keep their full-softmax probabilities (no renormalisation). */
record UnnormalisedSoftmaxTopK(RouterProvider real) implements RouterProvider {
    @Override
    public String name() {
        return real.name();
    }

    @Override
    public String description() {
        return "softmax-topk that forgets to renormalise (planted defect)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return real.parameters();
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Router router = real.create(config, params);
        return new Router() {
            @Override
            public String name() {
                return router.name();
            }

            @Override
            public RoutingDecision route(RoutingInput input) {
                RoutingDecision d = router.route(input);
                float[][] weights = new float[d.tokens()][];
                for (int t = 0; t < d.tokens(); t++) {
                    float[] logits = input.logits()[t];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float l : logits) if (!Float.isNaN(l)) max = Math.max(max, l);
                    for (float l : logits) if (!Float.isNaN(l)) sum += Math.exp(l - max);
                    int[] e = d.experts()[t];
                    weights[t] = new float[e.length];
                    for (int j = 0; j < e.length; j++) weights[t][j] = (float) (Math.exp(logits[e[j]] - max) / sum);
                }
                return new RoutingDecision(d.experts(), weights);
            }
        };
    }
}
