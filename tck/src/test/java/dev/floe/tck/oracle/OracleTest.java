package dev.floe.tck.oracle;

import dev.floe.api.DType;
import dev.floe.spi.AttentionBatch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The oracle itself, on cases worked out by hand. */
class OracleTest {
    @Test
    void formatsDecodeTheirLandmarks() {
        assertEquals(448, Formats.e4m3(0x7E));
        assertTrue(Double.isNaN(Formats.e4m3(0x7F)) && Double.isNaN(Formats.e4m3(0xFF)));
        assertEquals(0x1p-9, Formats.e4m3(0x01));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(Formats.e4m3(0x80)));
        assertEquals(57344, Formats.e5m2(0x7B));
        assertEquals(Double.POSITIVE_INFINITY, Formats.e5m2(0x7C));
        assertTrue(Double.isNaN(Formats.e5m2(0x7E)));
        assertEquals(0x1p-16, Formats.e5m2(0x01));
        assertEquals(65504, Formats.f16(0x7BFF));
        assertEquals(1.0, Formats.bf16(0x3F80));
        assertEquals(-2.0, Formats.bf16(0xC000));
    }

    @Test
    void nearestCodesRoundToEven() {
        assertEquals(0x7E, Formats.nearestFp8(448, true));
        assertEquals(0x7E, Formats.nearestFp8(460, true));
        assertEquals(0x7E, Formats.nearestFp8(464, true)); // the tie above 448 goes to 448, whose mantissa is even
        assertEquals(-1, Formats.nearestFp8(470, true)); // rounds past the largest finite value
        assertEquals(-1, Formats.nearestFp8(61440, false)); // E5M2's tie above 57344 goes to the (even) infinity
        // 1.0625 lies halfway between 1.0 (0x38, even) and 1.125 (0x39)
        assertEquals(0x38, Formats.nearestFp8(1.0625, true));
        assertEquals(0xB8, Formats.nearestFp8(-1.0625, true));
        // halfway between two BF16 values: 1 + 2^-8 rounds to 1.0 (even); 1 + 3 * 2^-8 rounds up to 1 + 2^-6
        assertEquals(0x3F80, Formats.nearestBf16(1 + 0x1p-8f));
        assertEquals(0x3F82, Formats.nearestBf16(1 + 3 * 0x1p-8f));
        assertEquals(0x7F80, Formats.nearestBf16(Float.MAX_VALUE)); // rounds to infinity, as IEEE does
    }

    @Test
    void matmulAppliesPerRowScales() {
        byte[] codes = {0x38, 0x40, 0x38, 0x38}; // E4M3 1, 2 / 1, 1
        OracleWeight w = new OracleWeight("w", DType.F8_E4M3, 2, 2, codes, new float[]{0.5f, 3f});
        double[] out = Oracle.matmul(new float[]{1, 10}, 1, w);
        assertArrayEquals(new double[]{(1 + 20) * 0.5, (1 + 10) * 3.0}, out);
    }

    @Test
    void ropeTurnsTheHalvesByTheAngle() {
        // head dim 2: one pair, inv_freq 1, position 1: (1, 0) turns to (cos 1, sin 1)
        double[] out = Oracle.rope(new float[]{1, 0}, 1, 1, 2, new int[]{1}, 10000);
        assertEquals(Math.cos(1), out[0], 1e-15);
        assertEquals(Math.sin(1), out[1], 1e-15);
    }

    @Test
    void attentionIsCausalAndGroupsHeads() {
        // two positions, one KV head shared by two query heads; position 0 sees only its own value
        float[][] keys = {{0}, {0}};
        float[][] values = {{2}, {4}};
        AttentionBatch batch = new AttentionBatch(2, new int[]{0, 1}, new int[]{0, 0}, new int[][]{{0}});
        double[] out = Oracle.attention(new float[]{1, 1, 1, 1}, keys, values, 1, 1, batch, 2);
        assertArrayEquals(new double[]{2, 2, 3, 3}, out, 1e-15); // equal scores: the mean of the visible values
    }
}
