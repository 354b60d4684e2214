package dev.floe.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference routing rules every backend reproduces, against float64 arithmetic written out here (softmax and
 * sigmoid by their definitions), and their edge cases: ties to the lower expert, NaN last, all-masked rows.
 */
class RoutingSpecTest {
    private static final float INF = Float.POSITIVE_INFINITY;

    private static RoutingDecision route(RoutingSpec spec, float... logits) {
        return spec.route(new float[][]{logits});
    }

    private static void assertRoute(RoutingDecision d, int[] experts, double... weights) {
        assertArrayEquals(experts, d.experts()[0]);
        float[] w = d.weights()[0];
        assertEquals(weights.length, w.length);
        for (int j = 0; j < w.length; j++) assertEquals(weights[j], w[j], 1e-6, "weight " + j);
    }

    private static double exp(double x) {
        return Math.exp(x);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void softmaxTopKTakesTheMostLikelyAndRenormalises() {
        double z = exp(1) + exp(3) + exp(2) + exp(0);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, true), 1, 3, 2, 0), new int[]{1, 2},
                exp(3) / (exp(3) + exp(2)), exp(2) / (exp(3) + exp(2)));
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, false), 1, 3, 2, 0), new int[]{1, 2}, exp(3) / z, exp(2) / z);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(1, false), -50, 10, 10.5f), new int[]{2},
                1 / (1 + exp(-0.5) + exp(-60.5)));
        // shifted by the maximum: logits far above exp's range still give the right probabilities
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, false), 1000, 999, 0), new int[]{0, 1},
                1 / (1 + exp(-1) + exp(-1000)), exp(-1) / (1 + exp(-1) + exp(-1000)));
        assertRoute(route(new RoutingSpec.SoftmaxTopK(4, false), 1, 3, 2, 0), new int[]{1, 2, 0, 3},
                exp(3) / z, exp(2) / z, exp(1) / z, exp(0) / z);
    }

    @Test
    void tiesGoToTheLowerExpertAndNaNRanksLast() {
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, true), 1, 1, 1), new int[]{0, 1}, 0.5, 0.5);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, true), 0, 2, 2), new int[]{1, 2}, 0.5, 0.5);
        double z = 1 + exp(-1);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(3, false), Float.NaN, 0, -1), new int[]{1, 2, 0}, 1 / z, exp(-1) / z, 0);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, false), 0, Float.NaN, Float.NaN), new int[]{0, 1}, 1, 0);
    }

    @Test
    void maskedRowsAreUniformAndInfinitiesShareTheMass() {
        assertRoute(route(new RoutingSpec.SoftmaxTopK(1, false), -INF, Float.NaN, -INF), new int[]{0}, 1 / 3.0);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(1, true), -INF, Float.NaN, -INF), new int[]{0}, 1);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(3, false), INF, 0, INF), new int[]{0, 2, 1}, 0.5, 0.5, 0);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(2, false), 5, INF, 1e30f), new int[]{1, 0}, 1, 0);
        assertRoute(route(new RoutingSpec.SoftmaxTopK(1, false), -INF, 3, -INF), new int[]{1}, 1);
    }

    @Test
    void moreExpertsAskedThanThereAreTakesThemAll() {
        RoutingDecision d = new RoutingSpec.SoftmaxTopK(4, true).route(new float[][]{{0, 1}, {2, 2}});
        assertArrayEquals(new int[]{1, 0}, d.experts()[0]);
        assertArrayEquals(new int[]{0, 1}, d.experts()[1]);
        assertEquals(2, d.tokens());
    }

    @Test
    void kMustBePositive() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingSpec.SoftmaxTopK(0, true))
                .getMessage().contains("k = 0"));
        assertEquals(1, new RoutingSpec.SoftmaxTopK(1, true).k());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingSpec.SigmoidTopK(0, new double[2]))
                .getMessage().contains("k = 0 for 2 experts"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingSpec.SigmoidTopK(3, new double[2]))
                .getMessage().contains("k = 3 for 2 experts"));
        assertEquals(2, new RoutingSpec.SigmoidTopK(2, new double[2]).k());
    }

    @Test
    void sigmoidSelectsByScorePlusBiasButWeightsByScore() {
        var spec = new RoutingSpec.SigmoidTopK(2, new double[]{1, 0, 0});
        double s0 = sigmoid(0), s2 = sigmoid(0.2);
        assertRoute(route(spec, 0, 0.1f, 0.2f), new int[]{0, 2}, s0 / (s0 + s2), s2 / (s0 + s2));
        var plain = new RoutingSpec.SigmoidTopK(2, new double[3]);
        double a = sigmoid(0.2f), b = sigmoid(0.1f);
        assertRoute(route(plain, 0, 0.1f, 0.2f), new int[]{2, 1}, a / (a + b), b / (a + b));
        var negative = new RoutingSpec.SigmoidTopK(1, new double[]{0, -0.6});
        assertRoute(route(negative, 0, 1), new int[]{0}, 1);
    }

    @Test
    void sigmoidNaNScoresZeroAndRanksLast() {
        var spec = new RoutingSpec.SigmoidTopK(2, new double[]{5, 0, 0});
        double s1 = sigmoid(-3);
        assertRoute(route(spec, Float.NaN, -3, -4), new int[]{1, 2}, s1 / (s1 + sigmoid(-4)), sigmoid(-4) / (s1 + sigmoid(-4)));
        var all = new RoutingSpec.SigmoidTopK(2, new double[]{0, 0, 0});
        assertRoute(route(all, Float.NaN, 2, Float.NaN), new int[]{1, 0}, 1, 0);
    }

    @Test
    void sigmoidScoresThatUnderflowGiveEqualWeights() {
        // sigmoid(-1000) is exactly 0 in float64: the chosen scores sum to 0, so the weights are equal, not NaN
        var spec = new RoutingSpec.SigmoidTopK(2, new double[3]);
        assertRoute(route(spec, -1000, -1000, -2000), new int[]{0, 1}, 0.5, 0.5);
        assertEquals(0.0, sigmoid(-1000));
    }

    @Test
    void sigmoidBiasIsCopiedAndMustMatchTheExperts() {
        double[] bias = {0.5, -0.5};
        var spec = new RoutingSpec.SigmoidTopK(1, bias);
        bias[0] = -9;
        assertArrayEquals(new double[]{0.5, -0.5}, spec.bias());
        spec.bias()[1] = 7;
        assertEquals(-0.5, spec.bias(1));
        assertEquals(0.5, spec.bias(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> route(spec, 1, 2, 3)).getMessage()
                .contains("3 experts but the bias has 2"));
        assertEquals(new RoutingSpec.SigmoidTopK(1, new double[]{0.5, -0.5}), spec);
        assertEquals(new RoutingSpec.SigmoidTopK(1, new double[]{0.5, -0.5}).hashCode(), spec.hashCode());
        assertNotEquals(new RoutingSpec.SigmoidTopK(2, new double[]{0.5, -0.5}), spec);
        assertNotEquals(new RoutingSpec.SigmoidTopK(1, new double[]{0.5, 0.5}), spec);
        assertNotEquals(new RoutingSpec.SigmoidTopK(2, new double[]{0.5, -0.5}).hashCode(), spec.hashCode());
        assertEquals("SigmoidTopK[k=1, bias=[0.5, -0.5]]", spec.toString());
    }

    @Test
    void topKOfScores() {
        assertArrayEquals(new int[]{2, 0}, RoutingSpec.topK(new double[]{3, 1, 5, 3}, 2));
        assertArrayEquals(new int[]{2, 0, 3, 1}, RoutingSpec.topK(new double[]{3, 1, 5, 3}, 4));
        assertArrayEquals(new int[0], RoutingSpec.topK(new double[]{3, 1}, 0));
        assertArrayEquals(new int[]{1, 2, 0}, RoutingSpec.topK(new double[]{Double.NaN, 1, 0}, 3));
        assertArrayEquals(new int[]{4, 3, 2}, RoutingSpec.topK(new double[]{1, 2, 3, 4, 5}, 3), "ascending input");
        assertThrows(IllegalArgumentException.class, () -> RoutingSpec.topK(new double[]{1}, 2));
        assertThrows(IllegalArgumentException.class, () -> RoutingSpec.topK(new double[]{1}, -1));
    }

    @Test
    void softmaxProbabilitiesSumToOne() {
        float[] p = RoutingSpec.softmax(new float[]{0.5f, -2, 3, 3});
        double z = exp(0.5) + exp(-2) + 2 * exp(3);
        assertArrayEquals(new float[]{(float) (exp(0.5) / z), (float) (exp(-2) / z), (float) (exp(3) / z), (float) (exp(3) / z)}, p, 1e-7f);
    }
}
