package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link SoftmaxTopK}, the default router. Parameter {@code k} overrides the model's experts per token. */
public final class SoftmaxTopKProvider implements RouterProvider {
    public static final String NAME = "softmax-topk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "softmax over all experts, top-k, renormalised as the model family does (the Arctic/Mixtral router)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(new ParameterSpec("k", "int", "model", "experts per token (default: num_experts_per_tok)"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        return new SoftmaxTopK(k);
    }
}
