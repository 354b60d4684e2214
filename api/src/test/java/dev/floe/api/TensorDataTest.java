package dev.floe.api;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TensorData: the byte count must match the shape, and the shape is defended. */
class TensorDataTest {
    private static final MemorySegment BYTES_24 = Arena.global().allocate(24);

    @Test
    void theBytesMustHoldTheShape() {
        TensorData t = new TensorData("w", DType.BF16, new long[]{3, 4}, BYTES_24, null);
        assertEquals(12, t.numel());
        assertEquals(3, t.rows());
        assertEquals(4, t.cols());
        assertEquals(24, t.byteSize());
        String m = assertThrows(ModelFormatException.class, () -> new TensorData("w", DType.F32, new long[]{3, 4}, BYTES_24, null)).getMessage();
        assertEquals("tensor w: 24 bytes do not hold shape [3, 4] of F32", m);
        assertTrue(assertThrows(ModelFormatException.class, () -> new TensorData("n", DType.F8_E4M3, new long[]{-4, -6}, BYTES_24, null))
                .getMessage().contains("negative dimension in shape [-4, -6]"));
        assertThrows(ArithmeticException.class, () -> new TensorData("big", DType.F32, new long[]{1L << 40, 1L << 40}, BYTES_24, null));
    }

    @Test
    void vectorsHaveOneRowAndAScaleAddsItsBytes() {
        TensorData v = new TensorData("v", DType.F32, new long[]{6}, BYTES_24, null);
        assertEquals(1, v.rows());
        assertEquals(6, v.cols());
        TensorData scale = new TensorData("s", DType.F32, new long[]{1}, Arena.global().allocate(4), null);
        TensorData scaled = new TensorData("w", DType.F8_E4M3, new long[]{4, 6}, BYTES_24, null).withScale(scale);
        assertEquals(28, scaled.byteSize());
        assertEquals(scale, scaled.scale());
        assertTrue(scaled.toString().endsWith("scaled"), scaled.toString());
        assertEquals("v F32[6]", v.toString());
    }

    @Test
    void theShapeIsCopiedInAndOut() {
        long[] shape = {2, 3};
        TensorData t = new TensorData("w", DType.F32, shape, BYTES_24, null);
        shape[0] = 6;
        assertArrayEquals(new long[]{2, 3}, t.shape());
        t.shape()[1] = 1;
        assertArrayEquals(new long[]{2, 3}, t.shape());
    }

    @Test
    void equalityFollowsNameDtypeShapeAndData() {
        TensorData a = new TensorData("w", DType.F32, new long[]{2, 3}, BYTES_24, null);
        assertEquals(a, new TensorData("w", DType.F32, new long[]{2, 3}, BYTES_24, null));
        assertEquals(a.hashCode(), new TensorData("w", DType.F32, new long[]{2, 3}, BYTES_24, null).hashCode());
        assertNotEquals(a, new TensorData("x", DType.F32, new long[]{2, 3}, BYTES_24, null));
        assertNotEquals(a, new TensorData("w", DType.F32, new long[]{3, 2}, BYTES_24, null));
        assertNotEquals(a, new TensorData("w", DType.I32, new long[]{2, 3}, BYTES_24, null));
        assertNotEquals(a, new TensorData("w", DType.F32, new long[]{2, 3}, Arena.global().allocate(24), null));
    }

    @Test
    void anEmptyDimensionHoldsNoElements() {
        TensorData empty = new TensorData("e", DType.F32, new long[]{0, 5}, MemorySegment.NULL, null);
        assertEquals(0, empty.numel());
        assertEquals(0, empty.byteSize());
    }

    /** Tensors differing only in name or shape land in different hash buckets (a constant hash would still be legal). */
    @Test
    void hashCodesSpreadOverNamesAndShapes() {
        TensorData a = new TensorData("w", DType.BF16, new long[]{3, 4}, BYTES_24, null);
        assertNotEquals(a.hashCode(), new TensorData("v", DType.BF16, new long[]{3, 4}, BYTES_24, null).hashCode());
        assertNotEquals(a.hashCode(), new TensorData("w", DType.BF16, new long[]{4, 3}, BYTES_24, null).hashCode());
    }
}
