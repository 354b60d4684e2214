package dev.floe.gating;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TopKTest {
    @Test
    void picksLargestBestFirst() {
        assertArrayEquals(new int[]{3, 1}, TopK.indices(new float[]{0.1f, 0.5f, 0.2f, 0.9f}, 2));
    }

    @Test
    void tiesGoToTheLowerIndex() {
        assertArrayEquals(new int[]{1, 2, 0}, TopK.indices(new float[]{0.1f, 0.7f, 0.7f, 0.1f}, 3));
        assertArrayEquals(new int[]{0, 1, 2, 3}, TopK.indices(new float[]{1, 1, 1, 1}, 4));
    }

    @Test
    void nanRanksBelowEverything() {
        float nan = Float.NaN;
        assertArrayEquals(new int[]{2, 1, 0}, TopK.indices(new float[]{nan, Float.NEGATIVE_INFINITY, -5, nan}, 3));
        assertArrayEquals(new int[]{0, 1}, TopK.indices(new float[]{nan, nan}, 2));
    }

    @Test
    void kZeroAndBadK() {
        assertEquals(0, TopK.indices(new float[]{1, 2}, 0).length);
        assertThrows(IllegalArgumentException.class, () -> TopK.indices(new float[]{1, 2}, 3));
    }

    @Test
    void agreesWithSortingOnRandomScores() {
        var r = new java.util.SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + r.nextInt(20);
            int k = r.nextInt(n + 1);
            double[] s = new double[n];
            for (int i = 0; i < n; i++) s[i] = r.nextInt(5); // many ties
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> s[a] != s[b] ? Double.compare(s[b], s[a]) : Integer.compare(a, b));
            int[] expected = new int[k];
            for (int j = 0; j < k; j++) expected[j] = order[j];
            assertArrayEquals(expected, TopK.indices(s, k), () -> java.util.Arrays.toString(s));
        }
    }
}
