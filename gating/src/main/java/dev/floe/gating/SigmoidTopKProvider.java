package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link SigmoidTopK}: {@code sigmoid-topk:k=2,adapt=true,gamma=0.001} or {@code bias=0.1,0,...}. */
public final class SigmoidTopKProvider implements RouterProvider {
    public static final String NAME = "sigmoid-topk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "sigmoid scores, top-k by score + bias, weights = chosen scores normalised (DeepSeek-V3 loss-free balancing)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                new ParameterSpec("k", "int", "model", "experts per token (default: num_experts_per_tok)"),
                new ParameterSpec("gamma", "double", "0.001", "bias update speed per call when adapt=true"),
                new ParameterSpec("adapt", "boolean", "false", "move the bias after every call toward balanced load"),
                new ParameterSpec("bias", "string", "0", "starting selection bias: one number, or one per expert separated by commas"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        double gamma = p.doubleValue("gamma", 0.001, 0, 1);
        boolean adapt = p.booleanValue("adapt", false);
        double[] bias = p.doubleList("bias", 0, config.numExperts());
        return new SigmoidTopK(k, gamma, adapt, bias);
    }
}
