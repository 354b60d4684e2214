package dev.floe.spi;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** The scale-layout rules: which shapes are which layout, and the errors naming tensor, shapes and block size. */
class ScaleLayoutTest {
    private static TensorData weight(long rows, long cols, long... scaleShape) {
        var data = Arena.ofAuto().allocate(rows * cols);
        long n = 1;
        for (long d : scaleShape) n *= d;
        var s = Arena.ofAuto().allocate(n * 4);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i + 1);
        return new TensorData("w", DType.F8_E4M3, new long[]{rows, cols}, data,
                new TensorData("w_scale", DType.F32, scaleShape, s, null));
    }

    @Test
    void shapesGiveLayouts() {
        ScaleLayout.Block b = new ScaleLayout.Block(48, 48);
        assertEquals(new ScaleLayout.Tensor(), ScaleLayout.of(weight(64, 96, 1), null));
        assertEquals(new ScaleLayout.Tensor(), ScaleLayout.of(weight(64, 96), b), "a 0-d scalar");
        assertEquals(new ScaleLayout.Channel(), ScaleLayout.of(weight(64, 96, 64, 1), null));
        assertEquals(new ScaleLayout.Channel(), ScaleLayout.of(weight(64, 96, 64), b));
        assertEquals(b, ScaleLayout.of(weight(64, 96, 2, 2), b), "ragged rows: ceil(64/48) = 2");
        assertNull(ScaleLayout.of(new TensorData("v", DType.F32, new long[]{4}, Arena.ofAuto().allocate(16), null), null));
    }

    @Test
    void blockIndicesCoverRaggedEdges() {
        ScaleLayout.Block b = new ScaleLayout.Block(48, 32);
        assertEquals(2, b.gridRows(64));
        assertEquals(3, b.gridCols(65));
        assertEquals(0, b.index(47, 31, 65));
        assertEquals(2, b.index(0, 64, 65));
        assertEquals(3, b.index(48, 0, 65));
        assertEquals(5, b.index(63, 64, 65));
        TensorData w = weight(64, 65, 2, 3);
        assertEquals(6f, ScaleLayout.scaleAt(w, b, 63, 64));
        assertEquals(ScaleLayout.Block.parse(" 128X128 "), new ScaleLayout.Block(128, 128));
        assertThrows(IllegalArgumentException.class, () -> ScaleLayout.Block.parse("128"));
        assertThrows(IllegalArgumentException.class, () -> new ScaleLayout.Block(0, 128));
    }

    @Test
    void mismatchesNameTheTensorsShapesAndBlockSize() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ScaleLayout.of(weight(64, 96, 3, 2), new ScaleLayout.Block(32, 48)));
        assertTrue(e.getMessage().contains("tensor w_scale: shape [3, 2] does not fit w [64, 96]"), e.getMessage());
        assertTrue(e.getMessage().contains("[ceil(64/32), ceil(96/48)] = [2, 2]"), e.getMessage());
        ModelFormatException noBlock = assertThrows(ModelFormatException.class, () -> ScaleLayout.of(weight(64, 96, 2, 2), null));
        assertTrue(noBlock.getMessage().contains("needs weight_block_size"), noBlock.getMessage());
        // the per-row reader refuses a grid instead of reading it as rows
        assertThrows(ModelFormatException.class, () -> FloatFormats.scale(weight(4, 96, 2, 2), 1));
        assertThrows(ModelFormatException.class, () -> FloatFormats.checkScale(weight(64, 96, 2, 2)));
    }

    @Test
    void dequantisesEachLayout() {
        TensorData channel = filled(weight(3, 2, 3));
        assertArrayEquals(new float[]{1, 1, 2, 2, 3, 3}, FloatFormats.toFloats(channel));
        TensorData grid = filled(weight(3, 2, 2, 1));
        assertArrayEquals(new float[]{1, 1, 1, 1, 2, 2}, FloatFormats.toFloats(grid, new ScaleLayout.Block(2, 2)));
        assertArrayEquals(new float[]{1, 1, 1, 1, 1, 1}, FloatFormats.toFloats(grid, null), "unscaled");
    }

    /** Every code 0x38, which is 1.0 in E4M3. */
    private static TensorData filled(TensorData t) {
        t.data().fill((byte) 0x38);
        return t;
    }
}
