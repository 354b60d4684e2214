package dev.floe.runtime;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.spi.RouterProvider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** Finds gating strategies by name and parses router specs {@code NAME[:key=value,...]}. */
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

    /** Parses {@code NAME[:key=value,...]}; errors name the offending part. */
    public static Spec parse(String spec) {
        if (spec == null || spec.isBlank()) return new Spec(DEFAULT, Map.of());
        int colon = spec.indexOf(':');
        String name = (colon < 0 ? spec : spec.substring(0, colon)).trim();
        if (name.isEmpty()) throw new InvalidRequestException("router spec '" + spec + "' has no name");
        Map<String, String> params = new LinkedHashMap<>();
        if (colon >= 0 && colon + 1 < spec.length()) {
            for (String kv : spec.substring(colon + 1).split(",")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) throw new InvalidRequestException("router spec '" + spec + "': '" + kv + "' is not key=value");
                String key = kv.substring(0, eq).trim();
                if (params.put(key, kv.substring(eq + 1).trim()) != null) {
                    throw new InvalidRequestException("router spec '" + spec + "': parameter " + key + " is given twice");
                }
            }
        }
        return new Spec(name, params);
    }

    /** Every router provider on the module path. */
    public static List<RouterProvider> providers() {
        return ServiceLoader.load(RouterProvider.class, Routers.class.getClassLoader()).stream().map(ServiceLoader.Provider::get).toList();
    }

    /** Creates the router a spec names for a model. */
    public static Router create(String spec, ModelConfig config) {
        Spec s = parse(spec);
        List<RouterProvider> all = providers();
        RouterProvider p = all.stream().filter(x -> x.name().equals(s.name())).findFirst().orElseThrow(() ->
                new InvalidRequestException("unknown router '" + s.name() + "' (known: " + all.stream().map(RouterProvider::name).sorted().toList() + ")"));
        return p.create(config, s.params());
    }
}
