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
        assertEquals(1.5 / 3, layer.meanWeightSum(), 1e-6);
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
        assertEquals(1, layer.meanWeightSum(), 1e-6);
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

    /** The snapshot's totals over two layers, by hand: drops over all tokens, means of the layer figures, the worst max/mean. */
    @Test
    void snapshotCombinesLayers() {
        var telemetry = new RoutingTelemetry();
        assertEquals(new RoutingTelemetry.Snapshot(0, java.util.List.of(), 0, 0, 0, 0, 0), telemetry.snapshot(), "nothing seen");
        // layer 1: loads (2, 1, 0, 0), 2 of 3 tokens dropped; layer 5: loads (1, 1, 1, 1), none dropped
        telemetry.onRouting(1, input(1, 2, true, new float[3][4]), new RoutingDecision(new int[][]{{0, 1}, {0}, {}},
                new float[][]{{0.75f, 0.25f}, {0.5f}, {}}));
        telemetry.onRouting(5, input(5, 1, true, new float[4][4]), new RoutingDecision(new int[][]{{0}, {1}, {2}, {3}},
                new float[][]{{1}, {1}, {1}, {1}}));
        var s = telemetry.snapshot();
        assertEquals(2, s.calls());
        assertEquals(java.util.List.of(1, 5), s.layers().stream().map(RoutingTelemetry.LayerStats::layer).toList());
        assertEquals(2.0 / 7, s.dropRate(), 1e-12);
        double h0 = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertEquals((h0 / 2 + 0) / 2, s.meanEntropy(), 1e-6);
        double sd = Math.sqrt(((2 - .75) * (2 - .75) + (1 - .75) * (1 - .75) + 2 * .75 * .75) / 4);
        assertEquals((sd / 0.75 + 0) / 2, s.meanLoadCv(), 1e-12);
        assertEquals(8.0 / 3, s.maxOverMean(), 1e-12);
        // layer 1 keeps 3 of the default router's 6 pairs, layer 5 (k = 1, default expert 0 for every token) 1 of 4
        assertEquals((0.5 + 0.25) / 2, s.agreement(), 1e-12);
        var first = s.layers().getFirst().experts();
        assertEquals(2.0 / 3, first.get(0).share(), 1e-12);
        assertEquals(1.0 / 3, first.get(1).share(), 1e-12);
        assertEquals(0, first.get(2).share());
        assertEquals(3, s.layers().get(1).experts().get(0).displaced(), "layer 5: the default's expert 0 for tokens 1 to 3");
    }

    /** Weights summing to 0 carry no entropy, and expert ids outside the layer are not counted as load. */
    @Test
    void zeroWeightsAndForeignExpertIds() {
        var telemetry = new RoutingTelemetry();
        telemetry.onRouting(0, input(0, 1, true, new float[3][2]), new RoutingDecision(new int[][]{{0}, {1, 2}, {0, 1}},
                new float[][]{{0}, {0.5f, 0.5f}, {1, 0}}));
        var layer = telemetry.snapshot().layers().getFirst();
        assertEquals(3, layer.tokens());
        assertEquals(4, layer.assignments(), "expert 2 of a 2-expert layer is not a load");
        assertEquals(Math.log(2) / 2, layer.meanEntropy(), 1e-9,
                "tokens 1 (ln 2) and 2 (a zero weight adds no entropy); the all-zero token 0 is not averaged in");
        assertEquals(1.5 / 3, layer.meanWeightSum(), 1e-9, "mass of the counted pairs over tokens");
        assertEquals(0, layer.dropRate());
    }
}
