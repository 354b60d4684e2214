package dev.floe.spi;

import dev.floe.api.RoutingDecision;

/**
 * Where a backend routing on its device reports what it decided, when someone observes routing: the only reason
 * router logits come back to the host on the fast path. Filled once per {@link Backend#moe} call.
 */
public final class MoeTrace {
    private float[][] logits;
    private RoutingDecision decision;

    /** Records the router logits {@code [rows][experts]} and the decision the backend took from them. */
    public void record(float[][] logits, RoutingDecision decision) {
        this.logits = logits;
        this.decision = decision;
    }

    /** The logits, or null when nothing was recorded. */
    public float[][] logits() {
        return logits;
    }

    /** The decision, or null when nothing was recorded. */
    public RoutingDecision decision() {
        return decision;
    }
}
