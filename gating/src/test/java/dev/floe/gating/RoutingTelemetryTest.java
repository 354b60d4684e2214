package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class RoutingTelemetryTest {
    @Test
    void countsTokensMassAndDrops() {
        var telemetry = new RoutingTelemetry();
        var in = input(3, 2, true, new float[3][4]);
        telemetry.onRouting(3, in, new RoutingDecision(new int[][]{{0, 1}, {0}, {}},
                new float[][]{{0.75f, 0.25f}, {0.5f}, {}}));
        var s = telemetry.snapshot();
        assertEquals(1, s.calls());
        var layer = s.layers().getFirst();
        assertEquals(3, layer.layer());
        assertEquals(3, layer.tokens());
        assertEquals(3, layer.assignments());
        assertEquals(2, layer.droppedTokens());
        assertEquals(1, layer.unroutedTokens());
        assertEquals(2.0 / 3, layer.dropRate(), 1e-12);
        assertEquals(2, layer.experts().get(0).tokens());
        assertEquals(1.25, layer.experts().get(0).weightMass(), 1e-6);
        assertEquals(0, layer.experts().get(3).tokens());
        // the default router would send every token (all-zero logits) to experts 0 and 1: 3 of its 6 pairs survive
        assertEquals(0.5, layer.agreement(), 1e-12);
        assertEquals(1, layer.experts().get(0).displaced());
        assertEquals(2, layer.experts().get(1).displaced());
        assertEquals(0, layer.experts().get(2).displaced());
        // entropy: token 0 has (0.75, 0.25), token 1 has one expert (0)
        double h0 = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertEquals(h0 / 2, layer.meanEntropy(), 1e-6);
        // load (2, 1, 0, 0): mean 0.75, max/mean 8/3
        assertEquals(8.0 / 3, layer.maxOverMean(), 1e-12);
        double sd = Math.sqrt(((2 - .75) * (2 - .75) + (1 - .75) * (1 - .75) + 2 * .75 * .75) / 4);
        assertEquals(sd / 0.75, layer.loadCv(), 1e-12);
    }

    @Test
    void perfectBalanceAndEqualWeights() {
        var telemetry = new RoutingTelemetry();
        var in = input(2, new float[4][4]);
        telemetry.onRouting(0, in, new RoutingDecision(new int[][]{{0, 1}, {2, 3}, {1, 0}, {3, 2}},
                new float[][]{{.5f, .5f}, {.5f, .5f}, {.5f, .5f}, {.5f, .5f}}));
        var layer = telemetry.snapshot().layers().getFirst();
        assertEquals(0, layer.loadCv(), 1e-12);
        assertEquals(1, layer.maxOverMean(), 1e-12);
        assertEquals(Math.log(2), layer.meanEntropy(), 1e-6);
        assertEquals(0, layer.dropRate());
    }

    @Test
    void accumulatesAcrossPassesAndResets() {
        var telemetry = new RoutingTelemetry();
        var router = new SoftmaxTopK(2);
        for (int pass = 0; pass < 3; pass++) {
            for (int layer = 0; layer < 2; layer++) {
                var in = input(layer, 2, true, gaussian(pass * 10 + layer, 5, 8));
                telemetry.onRouting(layer, in, router.route(in));
            }
        }
        var s = telemetry.snapshot();
        assertEquals(6, s.calls());
        assertEquals(2, s.layers().size());
        assertEquals(15, s.layers().get(1).tokens());
        assertEquals(30, s.layers().get(1).assignments());
        double shares = s.layers().get(1).experts().stream().mapToDouble(RoutingTelemetry.ExpertLoad::share).sum();
        assertEquals(1, shares, 1e-12);
        assertEquals(1, s.agreement(), 1e-12); // the default router agrees with itself
        assertEquals(0, s.layers().get(0).experts().stream().mapToLong(RoutingTelemetry.ExpertLoad::displaced).sum());
        telemetry.reset();
        assertTrue(telemetry.snapshot().layers().isEmpty());
    }
}
