package dev.floe.api;

/**
 * A gating strategy: decides which experts each token of a batch goes to, and with what weight. Implementations are
 * created per model by a {@code dev.floe.spi.RouterProvider} found by name; they may keep state across calls (for
 * example an online load-balancing bias) and are called from one thread at a time per model.
 */
public interface Router {
    /** The strategy's name, as selected with {@code --router NAME}. */
    String name();

    /** Routes one MoE layer's tokens. */
    RoutingDecision route(RoutingInput input);
}
