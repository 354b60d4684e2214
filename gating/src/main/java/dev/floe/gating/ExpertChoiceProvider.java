package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link ExpertChoice}: {@code expert-choice:capacity_factor=2}. */
public final class ExpertChoiceProvider implements RouterProvider {
    public static final String NAME = "expert-choice";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "each expert takes its top-c tokens of the batch (Zhou et al. 2022); tokens get 0..E experts";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                new ParameterSpec("capacity_factor", "double", "1.0", "tokens per expert over tokens * k / experts, > 0"),
                new ParameterSpec("k", "int", "model", "experts per token the capacity is sized for (default: num_experts_per_tok)"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        double factor = p.doubleAbove("capacity_factor", 1.0, 0, 1e6);
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        return new ExpertChoice(factor, k);
    }
}
