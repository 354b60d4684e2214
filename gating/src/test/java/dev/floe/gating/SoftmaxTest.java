package dev.floe.gating;

import org.junit.jupiter.api.Test;

import static dev.floe.gating.Inputs.row;
import static org.junit.jupiter.api.Assertions.*;

class SoftmaxTest {
    @Test
    void sumsToOneAndKeepsOrder() {
        float[] p = Softmax.of(row(1, 3, 2));
        assertEquals(1, Inputs.sum(p), 1e-6);
        assertTrue(p[1] > p[2] && p[2] > p[0]);
        assertEquals(Math.exp(1) / (Math.exp(1) + Math.exp(3) + Math.exp(2)), p[0], 1e-7);
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] p = Softmax.of(row(1000, 999));
        assertEquals(1 / (1 + Math.exp(-1)), p[0], 1e-6);
    }

    @Test
    void nanIsZeroProbability() {
        float[] p = Softmax.of(row(Double.NaN, 0, 0));
        assertEquals(0, p[0]);
        assertEquals(0.5, p[1], 1e-7);
    }

    @Test
    void allNanOrMinusInfinityIsUniform() {
        assertArrayEquals(new float[]{0.5f, 0.5f}, Softmax.of(row(Double.NaN, Double.NEGATIVE_INFINITY)));
    }

    @Test
    void plusInfinitySharesTheMass() {
        assertArrayEquals(new float[]{0.5f, 0f, 0.5f}, Softmax.of(row(Double.POSITIVE_INFINITY, 7, Double.POSITIVE_INFINITY)));
    }
}
