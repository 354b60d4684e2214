package dev.floe.api;

/** Sees intermediate results of a forward pass, for debugging, conformance checks and routing telemetry. */
public interface ForwardObserver {
    /** The routing of one MoE layer for the rows of this pass. */
    default void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
    }

    /**
     * Whether {@link #onRouting} is wanted. Routing on a device sends the logits and decisions back to the host only
     * for an observer that wants them; the default is true, so an observer written before device routing keeps
     * seeing every decision.
     */
    default boolean wantsRouting() {
        return true;
    }

    /** The output of one layer, {@code rows * hiddenSize} floats, row-major. */
    default void onLayerOutput(int layer, float[] hidden, int rows) {
    }

    /** Whether {@link #onLayerOutput} is wanted (copying hidden states off a device costs time). */
    default boolean wantsLayerOutputs() {
        return false;
    }
}
