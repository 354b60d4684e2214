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
    }
}
