package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link RandomRouter}: {@code random:seed=42}. */
public final class RandomRouterProvider implements RouterProvider {
    public static final String NAME = "random";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "k distinct experts uniformly at random per token, equal weights; seeded and reproducible (a baseline)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                new ParameterSpec("k", "int", "model", "experts per token (default: num_experts_per_tok)"),
                new ParameterSpec("seed", "long", "0", "seed of the random stream"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        return new RandomRouter(k, p.longValue("seed", 0));
    }
}
