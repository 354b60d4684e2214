package dev.floe.api;

import java.util.Arrays;

/**
 * Where each token goes: {@code experts[t]} and {@code weights[t]} list the experts of token t, best first, and the
 * weight its output is multiplied by. A token may have fewer than k experts (or none: it was dropped and only the
 * residual path carries it) or, for expert-choice routing, more.
 */
public record RoutingDecision(int[][] experts, float[][] weights) {
    public RoutingDecision {
        if (experts.length != weights.length) {
            throw new IllegalArgumentException("routing decision: " + experts.length + " expert rows but " + weights.length + " weight rows");
        }
        for (int t = 0; t < experts.length; t++) {
            if (experts[t].length != weights[t].length) {
                throw new IllegalArgumentException("routing decision: token " + t + " has " + experts[t].length
                        + " experts but " + weights[t].length + " weights");
            }
        }
    }

    public int tokens() {
        return experts.length;
    }

    /** Tokens routed to no expert at all. */
    public int droppedTokens() {
        int n = 0;
        for (int[] e : experts) if (e.length == 0) n++;
        return n;
    }

    @Override
    public String toString() {
        return "RoutingDecision" + Arrays.deepToString(experts) + Arrays.deepToString(weights);
    }
}
