package dev.floe.gating;

import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

class HashRouterTest {
    @Test
    void sameTokenIdSameExpertsWhateverTheLogitsOrPosition() {
        var router = new HashRouter(2, 7);
        int[] ids = {5, 9, 5, 1000, 9};
        RoutingDecision d = router.route(withIds(ids, 8, 2));
        assertArrayEquals(d.experts()[0], d.experts()[2]);
        assertArrayEquals(d.experts()[1], d.experts()[4]);
        RoutingInput other = new RoutingInput(0, gaussian(3, 1, 8), new int[]{5}, new int[]{77}, 2, true);
        assertArrayEquals(d.experts()[0], router.route(other).experts()[0]);
    }

    @Test
    void logitsNaNOrNotAreIgnored() {
        var router = new HashRouter(2, 4);
        float[][] nan = {row(Double.NaN, Double.NaN, Double.NaN, Double.NaN)};
        RoutingInput a = new RoutingInput(0, nan, new int[]{17}, new int[]{0}, 2, true);
        RoutingInput b = new RoutingInput(0, new float[][]{row(9, 0, 0, 0)}, new int[]{17}, new int[]{0}, 2, true);
        assertArrayEquals(router.route(a).experts(), router.route(b).experts());
    }

    @Test
    void distinctExpertsWithEqualWeights() {
        RoutingDecision d = new HashRouter(3, 1).route(withIds(new int[]{0, 1, 2, 3, 4, 5}, 5, 3));
        for (int t = 0; t < 6; t++) {
            assertTrue(distinct(d.experts()[t]));
            for (float w : d.weights()[t]) assertEquals(1f / 3, w);
        }
    }

    @Test
    void kEqualToExpertsIsAPermutation() {
        RoutingDecision d = new HashRouter(6, 0).route(withIds(new int[]{42}, 6, 6));
        int[] sorted = d.experts()[0].clone();
        java.util.Arrays.sort(sorted);
        assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5}, sorted);
    }

    @Test
    void seedsAndLayersChangeTheAssignment() {
        int[] ids = new int[64];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        RoutingDecision a = new HashRouter(1, 1).route(withIds(ids, 16, 1));
        RoutingDecision b = new HashRouter(1, 2).route(withIds(ids, 16, 1));
        RoutingInput layer1 = new RoutingInput(1, new float[64][16], ids, new int[64], 1, true);
        RoutingDecision c = new HashRouter(1, 1).route(layer1);
        assertFalse(java.util.Arrays.deepEquals(a.experts(), b.experts()));
        assertFalse(java.util.Arrays.deepEquals(a.experts(), c.experts()));
    }

    @Test
    void spreadsAVocabularyEvenly() {
        int[] ids = new int[16000];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        long[] n = load(new HashRouter(2, 0).route(withIds(ids, 16, 2)), 16);
        for (long x : n) assertEquals(2000, x, 200, java.util.Arrays.toString(n)); // about 4.5 standard deviations
    }
}
