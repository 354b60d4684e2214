package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class CapacityTopKTest {
    @Test
    void capacityFormula() {
        assertEquals(2, new CapacityTopK(2, 1.0, 0).capacity(8, 8));      // 8*2/8 = 2
        assertEquals(3, new CapacityTopK(2, 1.25, 0).capacity(8, 8));     // 2.5 -> 3
        assertEquals(1, new CapacityTopK(1, 0.01, 0).capacity(8, 8));     // ceil of a sliver is 1
        assertEquals(5, new CapacityTopK(1, 0.01, 5).capacity(8, 8));     // min_capacity wins
        assertEquals(0, new CapacityTopK(1, 1.0, 0).capacity(0, 8));      // empty batch
    }

    @Test
    void withoutPressureItIsSoftmaxTopK() {
        float[][] logits = gaussian(1, 6, 8);
        RoutingDecision plain = new SoftmaxTopK(2).route(input(2, logits));
        RoutingDecision capped = new CapacityTopK(2, 100, 0).route(input(2, logits));
        assertArrayEquals(plain.experts(), capped.experts());
        assertArrayEquals(plain.weights(), capped.weights());
    }

    @Test
    void everyTokenWantsTheSameExpertAndTheMostLikelyKeepIt() {
        // expert 0 is everyone's first choice, token 2 likes it most, then token 0
        float[][] logits = {row(2, 0, 0, 0), row(1, 0, 0, 0), row(5, 0, 0, 0), row(1.5, 0, 0, 0)};
        RoutingDecision d = new CapacityTopK(1, 1.0, 0).route(input(0, 1, false, logits)); // capacity 1
        assertArrayEquals(new int[]{0}, d.experts()[2]);
        for (int t : new int[]{0, 1, 3}) assertEquals(0, d.experts()[t].length, "token " + t);
        assertEquals(3, d.droppedTokens());
        RoutingDecision two = new CapacityTopK(1, 2.0, 0).route(input(0, 1, false, logits)); // capacity 2
        assertArrayEquals(new int[]{0}, two.experts()[0]);
        assertArrayEquals(new int[]{0}, two.experts()[2]);
        assertEquals(2, two.droppedTokens());
    }

    @Test
    void tiesKeepTheLowerTokenIndex() {
        float[][] logits = repeat(row(3, 0, 0, 0), 5);
        RoutingDecision d = new CapacityTopK(1, 1.0, 2).route(input(0, 1, false, logits)); // capacity max(2, ceil(1.25))
        assertArrayEquals(new int[]{0}, d.experts()[0]);
        assertArrayEquals(new int[]{0}, d.experts()[1]);
        for (int t = 2; t < 5; t++) assertEquals(0, d.experts()[t].length);
    }

    @Test
    void droppedMassIsLostNotRedistributed() {
        // 4 tokens, 4 experts, k = 2, capacity 2: expert 0 is everyone's first choice
        float[][] logits = {row(4, 3, 0, 0), row(3.9, 0, 3, 0), row(3.8, 0, 0, 3), row(4.5, 3, 0, 0)};
        RoutingDecision d = new CapacityTopK(2, 1.0, 0).route(input(2, logits));
        RoutingDecision full = new SoftmaxTopK(2).route(input(2, logits));
        // expert 0 keeps tokens 3 and 0, the two most likely for it
        assertArrayEquals(new int[]{0, 1}, d.experts()[0]);
        assertArrayEquals(new int[]{0, 1}, d.experts()[3]);
        assertArrayEquals(new int[]{2}, d.experts()[1]);
        assertArrayEquals(new int[]{3}, d.experts()[2]);
        // the survivor of token 1 keeps its share of the renormalised pair
        assertEquals(full.weights()[1][1], d.weights()[1][0]);
        assertTrue(sum(d.weights()[1]) < 0.5);
        assertEquals(0, d.droppedTokens()); // fewer experts, but none empty
    }

    @Test
    void kEqualToExpertsWithRoomForAll() {
        RoutingDecision d = new CapacityTopK(4, 1.0, 0).route(input(4, gaussian(2, 3, 4)));
        for (int[] e : d.experts()) assertEquals(4, e.length); // capacity 3 = every token
    }

    @Test
    void singleTokenIsNeverDropped() {
        RoutingDecision d = new CapacityTopK(2, 0.001, 0).route(input(2, row(1, 2, 3, 4, 5, 6, 7, 8)));
        assertArrayEquals(new int[]{7, 6}, d.experts()[0]);
    }

    @Test
    void nanLogitsGoLastAndAllEqualRowsTieByIndex() {
        RoutingDecision d = new CapacityTopK(2, 10, 0).route(input(2, row(Double.NaN, 1, 1, Double.NaN)));
        assertArrayEquals(new int[]{1, 2}, d.experts()[0]);
    }

    @Test
    void loadNeverExceedsCapacity() {
        var router = new CapacityTopK(2, 1.0, 0);
        for (int seed = 0; seed < 20; seed++) {
            float[][] logits = gaussian(seed, 16, 8);
            for (float[] r : logits) r[seed % 8] += 3; // a favourite expert
            long[] n = load(router.route(input(2, logits)), 8);
            for (long x : n) assertTrue(x <= router.capacity(16, 8));
        }
    }
}
