package dev.floe.gating;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /** Routers whose rule is fixed hand it to the backend; an adapting sigmoid router cannot. */
    @Test
    void deviceRoutingIsTheRouterOwnRule() {
        double[] bias = {0.5, 0, -0.5, 0};
        assertEquals(java.util.Optional.of(new dev.floe.api.RoutingSpec.SigmoidTopK(2, bias)),
                new SigmoidTopK(2, 0.1, false, bias).deviceRouting(3, 2, true));
        assertEquals(java.util.Optional.empty(), new SigmoidTopK(2, 0.1, true, bias).deviceRouting(3, 2, true));
        assertEquals(java.util.Optional.of(new dev.floe.api.RoutingSpec.SoftmaxTopK(2, false)), new SoftmaxTopK(0).deviceRouting(0, 2, false),
                "k = 0: the model's k");
        assertEquals(java.util.Optional.of(new dev.floe.api.RoutingSpec.SoftmaxTopK(3, true)), new SoftmaxTopK(3).deviceRouting(0, 2, true));
    }

    /**
     * A perfectly even load (each of 4 experts gets 1 of the 2 tokens x k = 2 assignments, the mean) leaves the bias
     * where it was: sign(0) = 0. An expert above or below the mean moves by exactly gamma.
     */
    @Test
    void anEvenLoadLeavesTheSigmoidBiasAlone() {
        var router = new SigmoidTopK(2, 0.125, true, new double[4]);
        router.route(Inputs.input(0, 2, true, Inputs.row(5, 5, -5, -5), Inputs.row(-5, -5, 5, 5)));
        assertArrayEquals(new double[4], router.bias(0));
        router.route(Inputs.input(0, 2, true, Inputs.row(5, 5, -5, -5), Inputs.row(5, 5, -5, -5)));
        assertArrayEquals(new double[]{-0.125, -0.125, 0.125, 0.125}, router.bias(0));
    }
}
