package dev.floe.runtime;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;

/** Finds gating strategies by name ({@link Providers}) and parses router specs {@code NAME[:key=value,...]}. */
public final class Routers {
    /** The router used when none is named. */
    public static final String DEFAULT = "softmax-topk";

    private Routers() {
    }

    /** A parsed router spec. */
    public record Spec(String name, Map<String, String> params) {
        public Spec {
            params = Map.copyOf(params);
        }
    }

    /** Parses {@code NAME[:key=value,...]} ({@link ProviderSpec}); errors name the offending part. */
    public static Spec parse(String spec) {
        ProviderSpec s = ProviderSpec.parse("router", spec, DEFAULT);
        return new Spec(s.name(), s.params());
    }

    /** Every router provider on Floe's path and the plugin path. */
    public static List<RouterProvider> providers() {
        return Providers.routers().stream().map(Providers.Found::provider).toList();
    }

    /** Creates the router a spec names for a model. */
    public static Router create(String spec, ModelConfig config) {
        ProviderSpec s = ProviderSpec.parse("router", spec, DEFAULT);
        return Providers.named(Providers.routers(), "router", s.name()).provider().create(config, s.params());
    }
}
