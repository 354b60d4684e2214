package dev.floe.gating;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link HashRouter}: {@code hash:seed=7}. */
public final class HashRouterProvider implements RouterProvider {
    public static final String NAME = "hash";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "k experts from a fixed seeded hash of the token id, equal weights (Roller et al. 2021 hash layers)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return List.of(
                new ParameterSpec("k", "int", "model", "experts per token (default: num_experts_per_tok)"),
                new ParameterSpec("seed", "long", "0", "selects the hash function"));
    }

    @Override
    public Router create(ModelConfig config, Map<String, String> params) {
        Parameters p = new Parameters(NAME, params, parameters());
        int k = p.intValue("k", config.topK(), 1, config.numExperts());
        return new HashRouter(k, p.longValue("seed", 0));
    }
}
