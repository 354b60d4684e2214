package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class SoftmaxTopKTest {
    @Test
    void topTwoRenormalised() {
        RoutingDecision d = new SoftmaxTopK(2).route(input(2, row(0, 2, 1, -1)));
        assertArrayEquals(new int[]{1, 2}, d.experts()[0]);
        double a = Math.exp(2), b = Math.exp(1);
        assertEquals(a / (a + b), d.weights()[0][0], 1e-6);
        assertEquals(1, sum(d.weights()[0]), 1e-6);
    }

    @Test
    void kOneWithoutRenormalisationKeepsTheRawProbability() {
        RoutingDecision d = new SoftmaxTopK(1).route(input(0, 1, false, row(0, 1)));
        assertArrayEquals(new int[]{1}, d.experts()[0]);
        assertEquals(Math.exp(1) / (1 + Math.exp(1)), d.weights()[0][0], 1e-6);
    }

    @Test
    void kEqualToExpertsUsesEveryExpert() {
        RoutingDecision d = new SoftmaxTopK(4).route(input(4, row(0.3, -1, 2, 0.5)));
        assertArrayEquals(new int[]{2, 3, 0, 1}, d.experts()[0]);
        assertEquals(1, sum(d.weights()[0]), 1e-6);
    }

    @Test
    void zeroMeansTheModelsK() {
        assertEquals(3, new SoftmaxTopK(0).route(input(3, row(1, 2, 3, 4))).experts()[0].length);
    }

    @Test
    void allEqualLogitsPickLowestIndicesWithEqualWeights() {
        RoutingDecision d = new SoftmaxTopK(2).route(input(2, row(5, 5, 5, 5)));
        assertArrayEquals(new int[]{0, 1}, d.experts()[0]);
        assertArrayEquals(new float[]{0.5f, 0.5f}, d.weights()[0]);
    }

    @Test
    void nanLogitIsNeverPreferred() {
        RoutingDecision d = new SoftmaxTopK(2).route(input(2, row(Double.NaN, -3, Double.NaN, -4)));
        assertArrayEquals(new int[]{1, 3}, d.experts()[0]);
        assertFalse(Float.isNaN(d.weights()[0][0]));
    }

    @Test
    void everyTokenWantingTheSameExpertGetsIt() {
        RoutingDecision d = new SoftmaxTopK(1).route(input(0, 1, false, repeat(row(0, 4, 0), 5)));
        for (int[] e : d.experts()) assertArrayEquals(new int[]{1}, e);
        assertEquals(0, d.droppedTokens());
    }

    @Test
    void emptyBatch() {
        assertEquals(0, new SoftmaxTopK(2).route(input(2)).tokens());
    }
}
