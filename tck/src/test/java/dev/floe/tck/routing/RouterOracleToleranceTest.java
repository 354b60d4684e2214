package dev.floe.tck.routing;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tolerance policy an oracle states: exact by default, a fraction of differing tokens for threshold routers. */
class RouterOracleToleranceTest {
    /** Ten tokens routed to expert 0, except those listed, routed to experts 0 and 1 (a top-p cut-off that went the other way). */
    private static RoutingDecision decision(int... wider) {
        int[][] e = new int[10][];
        float[][] w = new float[10][];
        for (int t = 0; t < 10; t++) {
            e[t] = new int[]{0};
            w[t] = new float[]{1};
        }
        for (int t : wider) {
            e[t] = new int[]{0, 1};
            w[t] = new float[]{0.5f, 0.5f};
        }
        return new RoutingDecision(e, w);
    }

    @Test
    void thresholdRoutersMayDifferOnAFractionOfTokens() {
        RouterOracle.Tolerance tenth = RouterOracle.Tolerance.threshold(0.1);
        assertNull(RouterConformance.compare(decision(3), decision(), tenth));
        String two = RouterConformance.compare(decision(3, 7), decision(), tenth);
        assertEquals("token 3: experts [0, 1], oracle [0] (2 tokens differ, 1 allowed)", two);
        assertTrue(RouterConformance.compare(decision(3), decision(), RouterOracle.Tolerance.EXACT).startsWith("token 3: experts"));
        assertEquals(RouterOracle.Tolerance.EXACT, new SoftmaxTopKOracle().tolerance(), "Floe's own routers stay exact");
        assertThrows(IllegalArgumentException.class, () -> new RouterOracle.Tolerance(1e-6, 1));
    }

    @Test
    void theOraclesAreOnePerName() {
        var names = RouterOracles.all().stream().map(RouterOracle::name).toList();
        assertEquals(names.stream().distinct().toList(), names);
        assertTrue(names.containsAll(java.util.List.of("softmax-topk", "sigmoid-topk", "capacity-topk", "expert-choice", "hash", "random")));
    }
}
