package dev.floe.runtime.generate;

import dev.floe.api.SamplingParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void argmaxPrefersLowerIndexOnTiesAndSkipsNaN() {
        assertEquals(1, Sampler.argmax(new float[]{0, 3, 3, 1}));
        assertEquals(2, Sampler.argmax(new float[]{Float.NaN, -5, 2}));
        assertThrows(IllegalStateException.class, () -> Sampler.argmax(new float[]{Float.NaN}));
    }

    /** Probabilities 0.4, 0.3, 0.2, 0.1: every filter below changes which tokens can appear by a wide margin. */
    private static final float[] FOUR_THREE_TWO_ONE = {(float) Math.log(4), (float) Math.log(3), (float) Math.log(2), 0};

    /** How often each token is drawn in {@code n} samples. */
    private static double[] frequencies(SamplingParams params, float[] logits, int n) {
        Sampler s = new Sampler(params);
        double[] f = new double[logits.length];
        for (int i = 0; i < n; i++) f[s.sample(logits)] += 1.0 / n;
        return f;
    }

    @Test
    void topPCutsTheTailAndRenormalisesTheRest() {
        // 0.4 + 0.3 reaches 0.6: the nucleus is tokens 0 and 1, drawn 4:3; unfiltered, tokens 2 and 3 take 30%
        double[] f = frequencies(new SamplingParams(1, 0, 0.6, 7), FOUR_THREE_TWO_ONE, 20000);
        assertEquals(0, f[2] + f[3], "top_p=0.6 lets only tokens 0 and 1 through: " + java.util.Arrays.toString(f));
        assertEquals(4 / 7.0, f[0], 0.02);
        assertEquals(3 / 7.0, f[1], 0.02);
    }

    @Test
    void topPKeepsTheTokenThatReachesItExactly() {
        // four equal logits: cumulative 0.25, 0.5 (exact in binary), so top_p=0.5 keeps exactly two tokens
        double[] f = frequencies(new SamplingParams(1, 0, 0.5, 3), new float[]{0, 0, 0, 0}, 20000);
        assertEquals(0, f[2] + f[3], java.util.Arrays.toString(f));
        assertEquals(0.5, f[0], 0.02);
        assertEquals(0.5, f[1], 0.02);
    }

    @Test
    void topKKeepsTheKMostLikely() {
        double[] two = frequencies(new SamplingParams(1, 2, 1, 9), FOUR_THREE_TWO_ONE, 20000);
        assertEquals(0, two[2] + two[3], "top_k=2: " + java.util.Arrays.toString(two));
        assertEquals(4 / 7.0, two[0], 0.02);
        double[] three = frequencies(new SamplingParams(1, 3, 1, 9), FOUR_THREE_TWO_ONE, 20000);
        assertEquals(0, three[3], "top_k=3: " + java.util.Arrays.toString(three));
        assertEquals(2 / 9.0, three[2], 0.02);
        assertEquals(4 / 9.0, three[0], 0.02);
    }

    @Test
    void topKAboveTheVocabularyKeepsEverything() {
        double[] f = frequencies(new SamplingParams(1, 50, 1, 2), FOUR_THREE_TWO_ONE, 20000);
        assertEquals(0.1, f[3], 0.015);
        assertEquals(0.4, f[0], 0.02);
    }

    @Test
    void topPAppliesToTheTopKRenormalised() {
        // top_k=2 leaves 4/7 and 3/7; top_p=0.5 is reached by the first alone. Measured on the unfiltered
        // distribution (0.4 < 0.5) it would keep two tokens.
        double[] f = frequencies(new SamplingParams(1, 2, 0.5, 4), FOUR_THREE_TWO_ONE, 2000);
        assertEquals(1.0, f[0], 1e-9, java.util.Arrays.toString(f));
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        Sampler s = new Sampler(new SamplingParams(5, 1, 1, 1));
        for (int i = 0; i < 500; i++) assertEquals(1, s.sample(new float[]{0.5f, 0.6f, 0.4f}));
    }

    @Test
    void theSeedFixesTheSequenceAndDifferentSeedsDiffer() {
        float[] flat = new float[16];
        int[] a = new int[64], b = new int[64], c = new int[64];
        Sampler sa = new Sampler(new SamplingParams(1, 0, 1, 42)), sb = new Sampler(new SamplingParams(1, 0, 1, 42)),
                sc = new Sampler(new SamplingParams(1, 0, 1, 43));
        for (int i = 0; i < 64; i++) {
            a[i] = sa.sample(flat);
            b[i] = sb.sample(flat);
            c[i] = sc.sample(flat);
        }
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c), "seeds 42 and 43 drew the same 64 tokens out of 16");
    }

    @Test
    void greedyIsArgmax() {
        Sampler s = new Sampler(SamplingParams.GREEDY);
        assertEquals(2, s.sample(new float[]{0.1f, -3, 7, 6.9f}));
    }

    @Test
    void frequenciesFollowTheDistribution() {
        float[] logits = {(float) Math.log(3), 0};
        Sampler s = new Sampler(new SamplingParams(1, 0, 1, 11));
        int zeros = 0, n = 20000;
        for (int i = 0; i < n; i++) if (s.sample(logits) == 0) zeros++;
        assertEquals(0.75, zeros / (double) n, 0.02);
    }

    @Test
    void temperatureSharpens() {
        float[] logits = {1, 0};
        Sampler cold = new Sampler(new SamplingParams(0.1, 0, 1, 5));
        int zeros = 0;
        for (int i = 0; i < 1000; i++) if (cold.sample(logits) == 0) zeros++;
        assertTrue(zeros > 990, "at T=0.1 the better token wins nearly always: " + zeros);
    }
}
