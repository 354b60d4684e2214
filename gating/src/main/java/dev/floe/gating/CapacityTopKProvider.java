package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link CapacityTopK}: {@code capacity-topk:capacity_factor=1.25,min_capacity=4}. */
public final class CapacityTopKProvider implements RouterProvider {
    public static final String NAME = "capacity-topk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "softmax top-k with a per-expert capacity; tokens over capacity are dropped (GShard/DeepSpeed training semantics)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                new ParameterSpec("k", "int", "model", "experts per token (default: num_experts_per_tok)"),
                new ParameterSpec("capacity_factor", "double", "1.0", "capacity over an even load, > 0"),
                new ParameterSpec("min_capacity", "int", "0", "least tokens an expert may take, >= 0"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        double factor = p.doubleAbove("capacity_factor", 1.0, 0, 1e6);
        int minCapacity = p.intValue("min_capacity", 0, 0, Integer.MAX_VALUE);
        return new CapacityTopK(k, factor, minCapacity);
    }
}
