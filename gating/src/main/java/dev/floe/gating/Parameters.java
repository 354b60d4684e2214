package dev.floe.gating;

import dev.floe.spi.ParameterSpec;

import java.util.List;
import java.util.Map;

/**
 * A router's typed parameters: {@link dev.floe.spi.Parameters} with messages that name the router, e.g. {@code router
 * capacity-topk: parameter capacity_factor=0 must be > 0}. Kept so that code written against it still compiles.
 */
public final class Parameters extends dev.floe.spi.Parameters {
    /** Checks that every given key is one of {@code specs} and has its type. */
    public Parameters(String strategy, Map<String, String> values, List<ParameterSpec> specs) {
        super("router " + strategy, values, specs);
    }
}
