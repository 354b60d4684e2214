package dev.floe.spi;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class MoeRoutingTest {
    @Test
    void aHostDecisionFlattensToRowsOfKWithEmptySlotsMarked() {
        // row 1 chose one expert (a capacity router dropped the other): its second slot is -1 with weight 0
        var d = new MoeRouting.Decided(new RoutingDecision(new int[][]{{3, 1}, {2}, {0, 7}},
                new float[][]{{0.6f, 0.4f}, {1f}, {0.5f, 0.5f}}));
        assertArrayEquals(new int[]{3, 1, 2, -1, 0, 7}, d.flatExperts(2));
        assertArrayEquals(new float[]{0.6f, 0.4f, 1f, 0f, 0.5f, 0.5f}, d.flatWeights(2));
    }
}
