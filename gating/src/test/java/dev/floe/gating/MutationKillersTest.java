package dev.floe.gating;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boundaries that PIT showed no other test pinned (docs/testing.md). */
class MutationKillersTest {
    @Test
    void compareDescendingIsATotalOrderWithNaNLastAndTiesEqual() {
        assertEquals(-1, TopK.compareDescending(2f, 1f));
        assertEquals(1, TopK.compareDescending(1f, 2f));
        assertEquals(0, TopK.compareDescending(1f, 1f), "equal scores compare equal, so a stable sort keeps token order");
        assertEquals(-1, TopK.compareDescending(-5f, Float.NaN));
        assertEquals(1, TopK.compareDescending(Float.NaN, -5f));
        assertEquals(0, TopK.compareDescending(Float.NaN, Float.NaN));
    }

    @Test
    void capacityFactorMustBePositive() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CapacityTopK(2, 0, 0)).getMessage()
                .contains("capacity_factor = 0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CapacityTopK(0, 1, 0)).getMessage()
                .contains("k = 0"));
        new CapacityTopK(1, Double.MIN_VALUE, 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ExpertChoice(0, 2)).getMessage()
                .contains("capacity_factor = 0.0"));
        new ExpertChoice(Double.MIN_VALUE, 2);
    }

    /**
     * The documented parameters of every router (docs and {@code floe routers}) are accepted together with
     * non-default values: a provider that declared none would reject them all as unknown.
     */
    @Test
    void everyRouterTakesItsDocumentedParameters() {
        var config = Inputs.config(8, 2);
        java.util.Map<String, java.util.Map<String, String>> documented = java.util.Map.of(
                "softmax-topk", java.util.Map.of("k", "3"),
                "sigmoid-topk", java.util.Map.of("k", "3", "gamma", "0.01", "adapt", "true", "bias", "0.5"),
                "capacity-topk", java.util.Map.of("k", "3", "capacity_factor", "1.5", "min_capacity", "2"),
                "expert-choice", java.util.Map.of("capacity_factor", "2", "k", "1"),
                "hash", java.util.Map.of("k", "3", "seed", "5"),
                "random", java.util.Map.of("k", "3", "seed", "5"));
        for (var p : ProvidersTest.ALL) {
            var params = documented.get(p.name());
            assertEquals(params.keySet(), p.parameters().stream().map(dev.floe.spi.ParameterSpec::name)
                    .collect(java.util.stream.Collectors.toSet()), p.name());
            assertEquals(p.name(), p.create(config, params).name());
        }
    }
}
