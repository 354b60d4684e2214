package dev.floe.runtime.generate;

import dev.floe.api.SamplingParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void argmaxPrefersLowerIndexOnTiesAndSkipsNaN() {
        assertEquals(1, Sampler.argmax(new float[]{0, 3, 3, 1}));
        assertEquals(2, Sampler.argmax(new float[]{Float.NaN, -5, 2}));
        assertThrows(IllegalStateException.class, () -> Sampler.argmax(new float[]{Float.NaN}));
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        float[] logits = {10, 9.9f, -10, -10, -10};
        Sampler s = new Sampler(new SamplingParams(1, 0, 0.9, 3));
        for (int i = 0; i < 200; i++) assertTrue(s.sample(logits) <= 1);
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
