package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A float64 reference for one gating strategy, written from the strategy's definition and nothing else, so that the
 * conformance run compares two independent implementations. Floe's own strategies have theirs in this package; a
 * research module adds one for its router with {@code provides dev.floe.tck.routing.RouterOracle with ...} (and
 * {@code META-INF/services/dev.floe.tck.routing.RouterOracle}), and {@code floe tck} runs it as
 * {@code routing.<name>} checks, found on the module path and the plugin path.
 */
public interface RouterOracle {
    /** The {@code RouterProvider} name it checks. */
    String name();

    /** Parameter combinations to check (every value valid for any model with at least 5 experts). */
    List<Map<String, String>> parameterSets();

    /** A fresh float64 reference router for these parameters (stateful strategies keep state across calls). */
    Function<RoutingInput, RoutingDecision> create(ModelConfig config, Map<String, String> params);

    /** How closely the router must follow this oracle; exact expert choices unless overridden. */
    default Tolerance tolerance() {
        return Tolerance.EXACT;
    }

    /**
     * A tolerance policy.
     *
     * @param relativeWeight   the largest weight difference, relative to the larger of the two weights, on a token
     *                         whose experts agree
     * @param differingTokens  the largest fraction of a call's tokens whose expert lists may differ from the oracle's.
     *                         Threshold routers (top-p, score cut-offs) need a little: a token whose cumulative
     *                         probability lands within float32 rounding of the threshold can fairly go either way. A
     *                         call with fewer tokens than {@code 1 / differingTokens} allows none.
     */
    record Tolerance(double relativeWeight, double differingTokens) {
        /** Experts in the same order, weights within 1e-6. */
        public static final Tolerance EXACT = new Tolerance(1e-6, 0);

        public Tolerance {
            if (!(relativeWeight >= 0) || !(differingTokens >= 0 && differingTokens < 1)) {
                throw new IllegalArgumentException("tolerance: relativeWeight " + relativeWeight + " must be >= 0 and differingTokens "
                        + differingTokens + " in [0, 1)");
            }
        }

        /** For threshold routers: weights within 1e-5, up to {@code fraction} of a call's tokens may choose differently. */
        public static Tolerance threshold(double fraction) {
            return new Tolerance(1e-5, fraction);
        }
    }
}
