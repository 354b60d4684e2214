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

    /**
     * The rule this router follows at {@code layer}, when it is one a backend can run on its device (so the router
     * logits never come back to the host); empty for any other router, which then routes on the host through
     * {@link #route}. A router that answers must route exactly as the rule's {@link RoutingSpec#route} does, and must
     * not need to see the decisions (no state updated by {@link #route}).
     *
     * @param topK        the model's experts per token
     * @param renormalize whether the model renormalises the top-k weights
     */
    default java.util.Optional<RoutingSpec> deviceRouting(int layer, int topK, boolean renormalize) {
        return java.util.Optional.empty();
    }
}
