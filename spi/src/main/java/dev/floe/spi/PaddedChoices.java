package dev.floe.spi;

import dev.floe.api.RoutingDecision;

/**
 * A routing decision as a device kernel reads it: {@code k} choices per row, row-major, a row with fewer choices
 * padded with expert id -1 and weight 0 (kernels skip those). The one flattening of {@link MoeRouting.Decided} the
 * fused MoE implementations share.
 *
 * @param k       choices per row: the most any row has
 * @param ids     {@code [rows, k]} expert ids
 * @param weights {@code [rows, k]} routing weights
 */
public record PaddedChoices(int k, int[] ids, float[] weights) {
    /** Flattens {@code d}; expert ids are not checked here ({@link ExpertRows#of} does that against a bank). */
    public static PaddedChoices of(RoutingDecision d) {
        int rows = d.tokens(), k = 0;
        for (int[] row : d.experts()) k = Math.max(k, row.length);
        int[] ids = new int[rows * k];
        float[] weights = new float[rows * k];
        for (int r = 0; r < rows; r++) {
            int[] ex = d.experts()[r];
            float[] wt = d.weights()[r];
            for (int j = 0; j < k; j++) {
                ids[r * k + j] = j < ex.length ? ex[j] : -1;
                weights[r * k + j] = j < ex.length && j < wt.length ? wt[j] : 0f;
            }
        }
        return new PaddedChoices(k, ids, weights);
    }
}
