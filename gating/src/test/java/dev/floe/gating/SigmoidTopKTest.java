package dev.floe.gating;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class SigmoidTopKTest {
    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void weightsAreTheChosenSigmoidScoresNormalised() {
        RoutingDecision d = new SigmoidTopK(2, 0, false, new double[4]).route(input(2, row(0, 2, 1, -1)));
        assertArrayEquals(new int[]{1, 2}, d.experts()[0]);
        double a = sigmoid(2), b = sigmoid(1);
        assertEquals(a / (a + b), d.weights()[0][0], 1e-6);
        assertEquals(b / (a + b), d.weights()[0][1], 1e-6);
    }

    @Test
    void biasChangesSelectionButNotWeights() {
        double[] bias = {0, 0, 0, 0.9};
        RoutingDecision d = new SigmoidTopK(2, 0, false, bias).route(input(2, row(0, 2, 1, -1)));
        // key: 0.5, 0.88, 0.73, 0.27 + 0.9 = 1.17 -> experts 3 then 1
        assertArrayEquals(new int[]{3, 1}, d.experts()[0]);
        double s3 = sigmoid(-1), s1 = sigmoid(2);
        assertEquals(s3 / (s3 + s1), d.weights()[0][0], 1e-6);
    }

    @Test
    void kOneHasWeightOne() {
        RoutingDecision d = new SigmoidTopK(1, 0, false, new double[3]).route(input(1, row(-2, -1, -3)));
        assertArrayEquals(new int[]{1}, d.experts()[0]);
        assertArrayEquals(new float[]{1f}, d.weights()[0]);
    }

    @Test
    void kEqualToExpertsAndAllEqualLogits() {
        RoutingDecision d = new SigmoidTopK(4, 0, false, new double[4]).route(input(4, row(1, 1, 1, 1)));
        assertArrayEquals(new int[]{0, 1, 2, 3}, d.experts()[0]);
        for (float w : d.weights()[0]) assertEquals(0.25f, w, 1e-7);
    }

    @Test
    void nanLogitRanksLastAndWeighsNothing() {
        RoutingDecision d = new SigmoidTopK(3, 0, false, new double[]{5, 0, 0}).route(input(3, row(Double.NaN, 0, 1)));
        assertArrayEquals(new int[]{2, 1, 0}, d.experts()[0]);
        assertEquals(0, d.weights()[0][2]);
        assertEquals(1, sum(d.weights()[0]), 1e-6);
    }

    @Test
    void adaptationPushesTokensAwayFromAnOverloadedExpert() {
        // every token prefers expert 0 slightly: the bias must move it out within a few calls
        float[] r = row(0.02, 0.01, 0, 0);
        SigmoidTopK router = new SigmoidTopK(1, 0.005, true, new double[4]);
        long firstLoad = load(router.route(input(1, repeat(r, 8))), 4)[0];
        assertEquals(8, firstLoad);
        double[] bias = router.bias(0);
        assertTrue(bias[0] < 0 && bias[1] > 0 && bias[2] > 0, java.util.Arrays.toString(bias));
        // identical tokens move together, so the bias rotates them over the experts
        long[] total = new long[4];
        for (int call = 0; call < 12; call++) {
            long[] n = load(router.route(input(1, repeat(r, 8))), 4);
            for (int e = 0; e < 4; e++) total[e] += n[e];
        }
        for (int e = 0; e < 4; e++) assertTrue(total[e] > 0, "expert " + e + " never used: " + java.util.Arrays.toString(total));
        // weights never see the bias: one expert per token always weighs 1
        RoutingDecision d = router.route(input(1, repeat(r, 2)));
        assertArrayEquals(new float[]{1f}, d.weights()[0]);
    }

    @Test
    void biasIsKeptPerLayer() {
        SigmoidTopK router = new SigmoidTopK(1, 0.1, true, new double[2]);
        router.route(input(3, 1, true, row(1, 0)));
        assertArrayEquals(new double[]{-0.1, 0.1}, router.bias(3), 1e-12);
        assertArrayEquals(new double[]{0, 0}, router.bias(4));
    }

    @Test
    void withoutAdaptTheBiasStays() {
        SigmoidTopK router = new SigmoidTopK(1, 0.1, false, new double[]{0.5, 0});
        router.route(input(1, row(1, 0)));
        assertArrayEquals(new double[]{0.5, 0}, router.bias(0));
    }

    @Test
    void providerParsesBiasListAndRejectsBadOnes() {
        var p = new SigmoidTopKProvider();
        var router = (SigmoidTopK) p.create(config(3, 1), Map.of("bias", "0.1, -0.2,0"));
        assertArrayEquals(new double[]{0.1, -0.2, 0}, router.bias(0), 1e-12);
        assertArrayEquals(new double[]{0, 0, 0}, ((SigmoidTopK) p.create(config(3, 1), Map.of("bias", "0"))).bias(0));
        var e = assertThrows(InvalidRequestException.class, () -> p.create(config(3, 1), Map.of("bias", "1,2")));
        assertTrue(e.getMessage().contains("sigmoid-topk") && e.getMessage().contains("bias=1,2"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> p.create(config(3, 1), Map.of("bias", "1,x,2")));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    }

    @Test
    void aRouterForOtherExpertCountsIsRejected() {
        var router = new SigmoidTopK(1, 0, false, new double[4]);
        assertThrows(InvalidRequestException.class, () -> router.route(input(1, row(1, 2))));
    }
}
