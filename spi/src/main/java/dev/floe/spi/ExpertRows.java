package dev.floe.spi;

import dev.floe.api.RoutingDecision;

import java.util.ArrayList;
import java.util.List;

/**
 * The rows a routing decision sends to one expert, in row order, with the router weight of each: the grouping every
 * MoE implementation (the runtime's decomposition, a backend's fused operation) starts from.
 *
 * @param expert  the expert's index in its bank
 * @param rows    the token rows routed to it, ascending
 * @param weights the router weight of each of those rows
 */
public record ExpertRows(int expert, int[] rows, float[] weights) {
    /** The chosen experts in ascending index, each with its rows; an expert index outside the bank is refused. */
    public static List<ExpertRows> of(RoutingDecision decision, int experts) {
        int[] count = new int[experts];
        for (int r = 0; r < decision.tokens(); r++) {
            for (int x : decision.experts()[r]) {
                if (x < 0 || x >= experts) {
                    throw new IllegalArgumentException("routing: row " + r + " goes to expert " + x + ", outside [0, " + experts + ")");
                }
                count[x]++;
            }
        }
        List<ExpertRows> groups = new ArrayList<>();
        for (int x = 0; x < experts; x++) {
            if (count[x] == 0) continue;
            int[] rows = new int[count[x]];
            float[] weights = new float[count[x]];
            int i = 0;
            for (int r = 0; r < decision.tokens(); r++) {
                int[] ex = decision.experts()[r];
                for (int j = 0; j < ex.length; j++) {
                    if (ex[j] == x) {
                        rows[i] = r;
                        weights[i++] = decision.weights()[r][j];
                    }
                }
            }
            groups.add(new ExpertRows(x, rows, weights));
        }
        return groups;
    }
}
