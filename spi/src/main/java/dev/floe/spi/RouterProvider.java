package dev.floe.spi;

import dev.floe.api.ModelConfig;
import dev.floe.api.Router;

import java.util.List;
import java.util.Map;

/**
 * Makes {@link Router}s of one gating strategy; found by {@link #name()} through {@link java.util.ServiceLoader}.
 * A research module adds a strategy by providing one of these; nothing else in Floe changes.
 */
public interface RouterProvider {
    /** The strategy's name, e.g. {@code softmax-topk}. */
    String name();

    /** A one-line description for help texts. */
    String description();

    /** The parameters {@link #create} accepts. */
    List<ParameterSpec> parameters();

    /**
     * Creates a router for a model.
     *
     * @param params values by parameter name, as given by the user; an unknown name or a bad value throws
     *               {@link dev.floe.api.InvalidRequestException} naming the parameter and value
     */
    Router create(ModelConfig config, Map<String, String> params);
}
