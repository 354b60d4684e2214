package dev.floe.runtime.generate;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.SamplingParams;
import dev.floe.api.TokenLogprobs;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

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

    @Test
    void presenceAndFrequencyPenaltiesLowerTheLogitsOfChosenTokens() {
        float[] logits = {1.0f, 0.9f, -3};
        Sampler s = new Sampler(SamplingParams.GREEDY.withPenalties(0.2, 0.3, 1));
        assertEquals(0, s.sample(logits));
        // after one 0: 1.0 - 0.2 - 0.3 = 0.5 < 0.9, so 1 wins; after one 1 as well: 0.5 vs 0.4, so 0 again
        assertEquals(1, s.sample(logits));
        assertEquals(0, s.sample(logits));
        float[] adjusted = s.adjust(logits);
        assertEquals(1.0f - 0.2f - 2 * 0.3f, adjusted[0], 1e-6);
        assertEquals(0.9f - 0.2f - 0.3f, adjusted[1], 1e-6);
        assertEquals(-3f, adjusted[2]);
        assertArrayEquals(new float[]{1.0f, 0.9f, -3}, logits, "the caller's logits are untouched");
        Sampler plain = new Sampler(SamplingParams.GREEDY);
        for (int i = 0; i < 3; i++) assertEquals(0, plain.sample(logits), "without penalties greedy repeats itself");
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfPromptAndOutput() {
        float[] logits = {2, 3, -1, 0.5f};
        Sampler s = new Sampler(SamplingParams.GREEDY.withPenalties(0, 0, 2), new int[]{1, 2});
        assertArrayEquals(new float[]{2, 1.5f, -2, 0.5f}, s.adjust(logits));
        assertEquals(0, s.sample(logits), "the prompt's token 1 fell from 3 to 1.5");
        assertArrayEquals(new float[]{1, 1.5f, -2, 0.5f}, s.adjust(logits));
        assertEquals(1, s.sample(logits));
    }

    @Test
    void logitBiasIsAddedBeforeTheChoice() {
        float[] logits = {5, 0, 1};
        assertEquals(2, new Sampler(SamplingParams.GREEDY.withLogitBias(Map.of(2, 4.5))).sample(logits));
        Sampler banned = new Sampler(new SamplingParams(1, 0, 1, 9).withLogitBias(Map.of(0, -100.0)));
        for (int i = 0; i < 500; i++) assertTrue(banned.sample(logits) != 0, "a -100 bias bans the token");
        assertThrows(InvalidRequestException.class, () -> SamplingParams.GREEDY.withLogitBias(Map.of(1, 101.0)));
    }

    @Test
    void minPCutsTokensBelowTheFractionOfTheMostLikely() {
        // relative probabilities 1, 0.51 and 0.49 of the most likely: min_p 0.5 keeps the first two only
        float[] logits = {0, (float) Math.log(0.51), (float) Math.log(0.49)};
        int[] seen = new int[3];
        Sampler s = new Sampler(new SamplingParams(1, 0, 1, 21).withMinP(0.5));
        for (int i = 0; i < 3000; i++) seen[s.sample(logits)]++;
        assertEquals(0, seen[2], "below min_p");
        assertEquals(0.51 / 1.51, seen[1] / 3000.0, 0.03, "the kept ones keep their relative odds");
        int[] free = new int[3];
        Sampler open = new Sampler(new SamplingParams(1, 0, 1, 21));
        for (int i = 0; i < 3000; i++) free[open.sample(logits)]++;
        assertTrue(free[2] > 600, "without min_p the third token comes up: " + free[2]);
        // temperature comes first: at T=0.5 the second token's relative probability is 0.51^2 = 0.26 < 0.5
        Sampler hot = new Sampler(new SamplingParams(0.5, 0, 1, 4).withMinP(0.5));
        for (int i = 0; i < 500; i++) assertEquals(0, hot.sample(logits));
    }

    @Test
    void logprobsAreTheLogSoftmaxOfTheLogits() {
        float[] logits = {1.5f, -2, 3.25f, 0, 3.25f, Float.NEGATIVE_INFINITY};
        double z = 0;
        for (float x : logits) z += Math.exp(x);
        TokenLogprobs lp = Sampler.logprobs(logits, 1, 3);
        assertEquals(1, lp.id());
        assertEquals(-2 - Math.log(z), lp.logprob(), 1e-9);
        assertEquals(List.of(2, 4, 0), lp.top().stream().map(TokenLogprobs.Candidate::id).toList(), "most likely first, ties to the lower id");
        for (TokenLogprobs.Candidate c : lp.top()) assertEquals(logits[c.id()] - Math.log(z), c.logprob(), 1e-9);
        assertEquals(Double.NEGATIVE_INFINITY, Sampler.logprobs(logits, 5, 0).logprob());
        assertTrue(Sampler.logprobs(logits, 0, 0).top().isEmpty());
        double total = 0;
        for (int i = 0; i < logits.length; i++) total += Math.exp(Sampler.logprobs(logits, i, 0).logprob());
        assertEquals(1, total, 1e-9);
    }

    @Test
    void aMaskedTokenIsNeverDrawn() {
        // most of the vocabulary at -inf (a constraint's mask): rounding in the draw must not fall through to one
        float[] logits = new float[4096];
        java.util.Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        logits[7] = 0.3f;
        logits[4000] = -0.2f;
        for (int seed = 0; seed < 2000; seed++) {
            int id = new Sampler(new SamplingParams(1, 0, 1, seed)).sample(logits);
            assertTrue(id == 7 || id == 4000, "seed " + seed + " drew " + id);
        }
    }

    @Test
    void aNaNLogitIsNeverDrawnAndNothingDrawableIsAnError() {
        float[] logits = {Float.NaN, 0.5f, Float.NaN, 0.1f};
        for (int seed = 0; seed < 500; seed++) {
            int id = new Sampler(new SamplingParams(1, 0, 1, seed)).sample(logits);
            assertTrue(id == 1 || id == 3, "seed " + seed + " drew " + id);
        }
        float[] nothing = {Float.NaN, Float.NEGATIVE_INFINITY};
        var e = assertThrows(IllegalStateException.class, () -> new Sampler(new SamplingParams(1, 0, 1, 1)).sample(nothing));
        assertTrue(e.getMessage().contains("every logit is NaN or -inf"), e.getMessage());
    }

    // The tests below were written for mutants that survived the runtime's mutation run (docs/testing.md).

    @Test
    void penaltiesReachTokenZeroAndIgnoreIdsBeyondTheVocabulary() {
        // token 0 is penalised like any other; a prompt id, a chosen id or a bias key at or past the end of a
        // (shorter) logits row is skipped, not an index error
        Sampler s = new Sampler(SamplingParams.GREEDY.withPenalties(0.5, 0, 2), new int[]{0, 3});
        assertArrayEquals(new float[]{2, 1, 1}, s.adjust(new float[]{4, 1, 1}), "token 0 of the prompt: 4 / 2");
        assertEquals(3, s.sample(new float[]{0, 0, 0, 9}));
        assertArrayEquals(new float[]{0, 1, 1}, s.adjust(new float[]{0, 1, 1}), "chosen token 3 is past this row");
        Sampler biased = new Sampler(SamplingParams.GREEDY.withLogitBias(Map.of(3, 5.0, 1, 1.0)));
        assertArrayEquals(new float[]{0, 1, 0}, biased.adjust(new float[]{0, 0, 0}), "bias for token 3 is past this row");
    }

    @Test
    void minPKeepsATokenExactlyAtTheFraction() {
        // relative probability e^-1 with min_p e^-1: "below min_p" is strict, so token 1 stays
        float[] logits = {0, -1};
        Sampler s = new Sampler(new SamplingParams(1, 0, 1, 3).withMinP(Math.exp(-1)));
        int ones = 0;
        for (int i = 0; i < 1000; i++) ones += s.sample(logits);
        assertTrue(ones > 150, "token 1 drawn " + ones + " times of 1000 (expected about 269)");
    }

    @Test
    void minPIsRelativeToTheMostLikelyTokenWhateverTheLogitsOffset() {
        // logits far from 0: min_p compares exp(logit - max), so 8 against 10 (relative e^-2 < 0.5) is cut
        Sampler s = new Sampler(new SamplingParams(1, 0, 1, 8).withMinP(0.5));
        for (int i = 0; i < 500; i++) assertEquals(0, s.sample(new float[]{10, 8}));
    }

    @Test
    void logprobsTopBreaksTiesToTheLowerIdWhenFull() {
        TokenLogprobs lp = Sampler.logprobs(new float[]{1, 1, 1, 0}, 3, 2);
        assertEquals(List.of(0, 1), lp.top().stream().map(TokenLogprobs.Candidate::id).toList());
    }
}
