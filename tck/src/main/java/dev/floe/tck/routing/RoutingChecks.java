package dev.floe.tck.routing;

import dev.floe.runtime.Routers;
import dev.floe.spi.RouterProvider;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Each gating strategy with each of its oracle's parameter sets, through {@link RouterConformance}: Gaussian, NaN,
 * tied and all-equal logits at several batch sizes against the float64 {@link RouterOracle}.
 */
public final class RoutingChecks {
    static final String CATEGORY = "routing";

    private RoutingChecks() {
    }

    /** One check per oracle and parameter set. */
    public static List<Check> all() {
        List<Check> checks = new ArrayList<>();
        for (RouterOracle oracle : RouterOracles.all()) {
            for (Map<String, String> params : oracle.parameterSets()) {
                String suffix = params.isEmpty() ? "" : "." + params.entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .map(e -> e.getKey() + "=" + e.getValue()).reduce((a, b) -> a + "," + b).orElse("");
                checks.add(new Check(CATEGORY, "routing." + oracle.name() + suffix, ctx -> check(ctx, oracle, params)));
            }
        }
        return checks;
    }

    private static Measurement check(TckContext ctx, RouterOracle oracle, Map<String, String> params) {
        List<RouterProvider> providers = ctx.options().routers() != null ? ctx.options().routers()
                : Routers.providers();
        List<RouterProvider> named = providers.stream().filter(p -> p.name().equals(oracle.name())).toList();
        if (named.isEmpty()) throw new Check.Skip("no router provider named " + oracle.name() + " is installed");
        for (RouterConformance.Result r : new RouterConformance().run(named, List.of(oracle))) {
            if (r.params().equals(params)) return Measurement.ofCondition(r.passed(), r.message());
        }
        throw new Check.Skip("router " + oracle.name() + " was not checked with " + params);
    }
}
