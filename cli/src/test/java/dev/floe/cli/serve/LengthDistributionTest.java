package dev.floe.cli.serve;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The max_tokens distributions of {@code floe bench-serve}: their range, their means and their tails. */
class LengthDistributionTest {
    private static final int DRAWS = 100_000;

    @Test
    void uniformCoversTheRangeEvenly() {
        SplittableRandom random = new SplittableRandom(1);
        int[] seen = new int[65];
        double sum = 0;
        for (int i = 0; i < DRAWS; i++) {
            int n = LengthDistribution.UNIFORM.draw(random, 8, 64);
            assertTrue(n >= 8 && n <= 64, "draw " + n + " outside [8, 64]");
            seen[n]++;
            sum += n;
        }
        for (int n = 8; n <= 64; n++) assertTrue(seen[n] > 0, "length " + n + " never drawn");
        assertEquals(36, sum / DRAWS, 0.5);
    }

    @Test
    void exponentialIsMostlyShortWithATailToTheMaximum() {
        SplittableRandom random = new SplittableRandom(1);
        double sum = 0;
        int atMax = 0, belowUniformMean = 0;
        for (int i = 0; i < DRAWS; i++) {
            int n = LengthDistribution.EXPONENTIAL.draw(random, 8, 120);
            assertTrue(n >= 8 && n <= 120, "draw " + n + " outside [8, 120]");
            sum += n;
            if (n == 120) atMax++;
            if (n < 64) belowUniformMean++;
        }
        // min + Exp(mean 28) floored and cut at 120: mean 8 + 28 - 0.5 - 28 e^-4, about 35
        assertEquals(35, sum / DRAWS, 1.0, "the mean of uniform 8..64 (36), about");
        assertEquals(Math.exp(-4), (double) atMax / DRAWS, 0.004, "about 2% cut at the maximum");
        assertTrue(belowUniformMean > 0.85 * DRAWS, "most requests short: " + belowUniformMean);
    }

    @Test
    void namesAreCaseInsensitiveAndAnUnknownOneIsNamedInTheError() {
        assertEquals(LengthDistribution.EXPONENTIAL, LengthDistribution.named("Exponential"));
        assertEquals("uniform", LengthDistribution.UNIFORM.toString());
        assertEquals("--length-distribution: 'zipf' is not uniform or exponential",
                assertThrows(IllegalArgumentException.class, () -> LengthDistribution.named("zipf")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> LengthDistribution.UNIFORM.draw(new SplittableRandom(1), 9, 8));
    }
}
