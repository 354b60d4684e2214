package dev.floe.gating;

import dev.floe.api.RoutingSpec;

/**
 * Router probabilities in float32 (spec section 4), total over every input: NaN logits count as minus infinity (so a
 * broken expert is chosen last, never poisons the others); if some logits are +infinity they share all the mass; if
 * every logit is minus infinity or NaN the distribution is uniform. The rule lives in {@link RoutingSpec#softmax}, so
 * the host routers and device routing agree bit for bit.
 */
final class Softmax {
    private Softmax() {
    }

    static float[] of(float[] logits) {
        return RoutingSpec.softmax(logits);
    }
}
