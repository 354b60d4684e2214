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

    /**
     * As {@link #record(float[][], RoutingDecision)}, from the row-major arrays a device holds: the logits
     * {@code [rows, experts]}, the chosen expert ids and their weights {@code [rows, k]}.
     */
    public void record(int rows, float[] logits, int[] experts, float[] weights) {
        if (rows < 1 || logits.length % rows != 0 || experts.length % rows != 0 || weights.length != experts.length) {
            throw new IllegalArgumentException("trace: " + logits.length + " logits, " + experts.length + " ids and "
                    + weights.length + " weights do not form " + rows + " rows");
        }
        int n = logits.length / rows, k = experts.length / rows;
        float[][] l = new float[rows][];
        int[][] ex = new int[rows][];
        float[][] wt = new float[rows][];
        for (int r = 0; r < rows; r++) {
            l[r] = java.util.Arrays.copyOfRange(logits, r * n, (r + 1) * n);
            ex[r] = java.util.Arrays.copyOfRange(experts, r * k, (r + 1) * k);
            wt[r] = java.util.Arrays.copyOfRange(weights, r * k, (r + 1) * k);
        }
        record(l, new RoutingDecision(ex, wt));
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
