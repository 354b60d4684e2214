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
}
