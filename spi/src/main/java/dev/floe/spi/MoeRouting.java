package dev.floe.spi;

import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;

/** How the fused MoE operation learns which experts each row goes to. */
public sealed interface MoeRouting {
    /** The backend computes the router logits with the gate weight and routes them itself, by {@code spec}. */
    record OnDevice(RoutingSpec spec) implements MoeRouting {
        public OnDevice {
            if (spec == null) throw new IllegalArgumentException("routing spec is null");
        }
    }

    /** A host {@link dev.floe.api.Router} already decided (the fallback for any router without a spec). */
    record Decided(RoutingDecision decision) implements MoeRouting {
        public Decided {
            if (decision == null) throw new IllegalArgumentException("routing decision is null");
        }

        /** The chosen experts as {@code rows x k} ids, row-major, -1 where a row chose fewer than k (a device table). */
        public int[] flatExperts(int k) {
            int[][] experts = decision.experts();
            int[] flat = new int[experts.length * k];
            for (int r = 0; r < experts.length; r++) {
                for (int j = 0; j < k; j++) flat[r * k + j] = j < experts[r].length ? experts[r][j] : -1;
            }
            return flat;
        }

        /** Their weights as {@code rows x k}, row-major, 0 where a row chose fewer than k. */
        public float[] flatWeights(int k) {
            float[][] weights = decision.weights();
            float[] flat = new float[weights.length * k];
            for (int r = 0; r < weights.length; r++) System.arraycopy(weights[r], 0, flat, r * k, Math.min(k, weights[r].length));
            return flat;
        }
    }
}
