package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A float64 reference for one gating strategy, written from the strategy's definition and nothing else, so that the
 * conformance run compares two independent implementations.
 */
public interface RouterOracle {
    /** The {@code RouterProvider} name it checks. */
    String name();

    /** Parameter combinations to check (every value valid for any model with at least 5 experts). */
    List<Map<String, String>> parameterSets();

    /** A fresh float64 reference router for these parameters (stateful strategies keep state across calls). */
    Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params);
}
