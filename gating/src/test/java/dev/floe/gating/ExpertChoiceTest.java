package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class ExpertChoiceTest {
    @Test
    void capacityFormula() {
        assertEquals(2, new ExpertChoice(1.0, 2).capacity(8, 8));
        assertEquals(3, new ExpertChoice(1.25, 2).capacity(8, 8));   // 2.5 rounds up
        assertEquals(1, new ExpertChoice(0.01, 1).capacity(8, 8));   // at least one
        assertEquals(8, new ExpertChoice(100, 2).capacity(8, 8));    // at most the batch
        assertEquals(0, new ExpertChoice(1.0, 2).capacity(0, 8));
    }

    @Test
    void everyExpertTakesExactlyCapacityTokens() {
        var router = new ExpertChoice(1.0, 2);
        for (int seed = 0; seed < 10; seed++) {
            RoutingDecision d = router.route(input(2, gaussian(seed, 12, 6)));
            long[] n = load(d, 6);
            for (long x : n) assertEquals(4, x); // round(12*2/6)
            for (int[] e : d.experts()) assertTrue(distinct(e));
        }
    }

    @Test
    void weightsAreSoftmaxProbabilitiesBestFirst() {
        float[][] logits = gaussian(7, 5, 4);
        RoutingDecision d = new ExpertChoice(2.0, 2).route(input(2, logits));
        for (int t = 0; t < 5; t++) {
            float[] p = Softmax.of(logits[t]);
            for (int j = 0; j < d.experts()[t].length; j++) {
                assertEquals(p[d.experts()[t][j]], d.weights()[t][j]);
                if (j > 0) assertTrue(d.weights()[t][j - 1] >= d.weights()[t][j]);
            }
        }
    }

    @Test
    void kEqualToExpertsSendsEveryTokenToEveryExpert() {
        RoutingDecision d = new ExpertChoice(1.0, 4).route(input(4, gaussian(5, 6, 4))); // c = 6 = the batch
        for (int[] e : d.experts()) assertEquals(4, e.length);
        assertEquals(0, d.droppedTokens());
    }

    @Test
    void aSingleTokenGoesToEveryExpert() {
        RoutingDecision d = new ExpertChoice(1.0, 1).route(input(1, row(0.5, 2, -1)));
        assertArrayEquals(new int[]{1, 0, 2}, d.experts()[0]);
    }

    @Test
    void everyTokenWantsTheSameExpertSoSomeGetNone() {
        // token 0 is the favourite of every expert; capacity 1 leaves tokens 1 and 2 with nothing
        float[][] logits = {row(9, 9, 9), row(0, 0, 0), row(0, 0, 0)};
        RoutingDecision d = new ExpertChoice(1.0, 1).route(input(1, logits));
        assertArrayEquals(new int[]{0, 1, 2}, d.experts()[0]); // equal weights: lower expert first
        assertEquals(2, d.droppedTokens());
    }

    @Test
    void tiesGoToTheLowerTokenIndex() {
        float[][] logits = repeat(row(1, 1), 4);
        RoutingDecision d = new ExpertChoice(1.0, 1).route(input(1, logits)); // c = round(2) = 2
        assertArrayEquals(new int[]{0, 1}, d.experts()[0]);
        assertArrayEquals(new int[]{0, 1}, d.experts()[1]);
        assertEquals(0, d.experts()[2].length);
        assertEquals(0, d.experts()[3].length);
    }

    @Test
    void nanLogitsAreChosenLast() {
        // token 0's NaN gives it probability 0 for expert 0, below token 1's small but real one
        float[][] logits = {row(Double.NaN, 0), row(-5, 0)};
        RoutingDecision d = new ExpertChoice(0.5, 1).route(input(1, logits)); // c = max(1, round(0.5)) = 1
        assertArrayEquals(new int[]{1}, d.experts()[0]);
        assertArrayEquals(new int[]{0}, d.experts()[1]);
    }
}
