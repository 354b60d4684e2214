package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class RandomRouterTest {
    @Test
    void sameSeedSameSequence() {
        var a = new RandomRouter(2, 11);
        var b = new RandomRouter(2, 11);
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(a.route(input(2, gaussian(call, 5, 8))).experts(), b.route(input(2, new float[5][8])).experts());
        }
    }

    @Test
    void successiveCallsAndSeedsDiffer() {
        var a = new RandomRouter(2, 11);
        RoutingDecision first = a.route(input(2, new float[20][8]));
        RoutingDecision second = a.route(input(2, new float[20][8]));
        RoutingDecision other = new RandomRouter(2, 12).route(input(2, new float[20][8]));
        assertFalse(java.util.Arrays.deepEquals(first.experts(), second.experts()));
        assertFalse(java.util.Arrays.deepEquals(first.experts(), other.experts()));
    }

    @Test
    void distinctExpertsEqualWeightsAndKEqualToExperts() {
        RoutingDecision d = new RandomRouter(4, 3).route(input(4, new float[10][4]));
        for (int t = 0; t < 10; t++) {
            assertTrue(distinct(d.experts()[t]));
            assertEquals(4, d.experts()[t].length);
            for (float w : d.weights()[t]) assertEquals(0.25f, w);
        }
        RoutingDecision one = new RandomRouter(1, 3).route(input(1, row(Double.NaN, 1, 2)));
        assertArrayEquals(new float[]{1f}, one.weights()[0]);
    }

    @Test
    void uniformOverExperts() {
        long[] n = load(new RandomRouter(2, 5).route(input(2, new float[8000][8])), 8);
        for (long x : n) assertEquals(2000, x, 200, java.util.Arrays.toString(n));
    }
}
