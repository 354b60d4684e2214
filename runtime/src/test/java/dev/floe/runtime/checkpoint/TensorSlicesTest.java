package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.ScaleLayout;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A shard keeps, for every element it holds, the very code and scale the whole tensor had there. */
class TensorSlicesTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** A [rows x cols] FP8 tensor whose code at (r, c) is r * cols + c (mod 256), with a scale of shape {@code scaleShape}. */
    private static TensorData tensor(Arena arena, int rows, int cols, long... scaleShape) {
        MemorySegment data = arena.allocate((long) rows * cols);
        for (int i = 0; i < rows * cols; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        long n = 1;
        for (long d : scaleShape) n *= d;
        MemorySegment s = arena.allocate(4 * n);
        for (int i = 0; i < n; i++) s.setAtIndex(F32, i, 1 + i);
        TensorData scale = new TensorData("w.weight_scale_inv", DType.F32, scaleShape, s, null);
        return new TensorData("w.weight", DType.F8_E4M3, new long[]{rows, cols}, data, scale);
    }

    private static void assertSameElements(TensorData whole, TensorData part, ScaleLayout.Block block, long row0, long col0) {
        ScaleLayout wholeLayout = ScaleLayout.of(whole, block), partLayout = ScaleLayout.of(part, block);
        for (long r = 0; r < part.rows(); r++) {
            for (long c = 0; c < part.cols(); c++) {
                long w = (r + row0) * whole.cols() + c + col0, p = r * part.cols() + c;
                assertEquals(whole.data().get(ValueLayout.JAVA_BYTE, w), part.data().get(ValueLayout.JAVA_BYTE, p), "code at " + r + "," + c);
                assertEquals(ScaleLayout.scaleAt(whole, wholeLayout, r + row0, c + col0), ScaleLayout.scaleAt(part, partLayout, r, c),
                        "scale at " + r + "," + c);
            }
        }
    }

    @Test
    void blockScalesFollowRowAndColumnShardsIncludingARaggedEdge() {
        ScaleLayout.Block block = new ScaleLayout.Block(4, 4);
        try (Arena arena = Arena.ofConfined()) {
            TensorData t = tensor(arena, 10, 12, 3, 3); // ragged last block row: rows 8-9
            assertSameElements(t, TensorSlices.rows(t, 4, 4, block), block, 4, 0);
            assertSameElements(t, TensorSlices.rows(t, 8, 2, block), block, 8, 0);
            assertSameElements(t, TensorSlices.columns(t, 4, 8, arena, block), block, 0, 4);
            assertSameElements(t, TensorSlices.columns(t, 0, 4, arena, block), block, 0, 0);
        }
    }

    @Test
    void perRowScalesFollowRowsAndStayWholeWithColumns() {
        try (Arena arena = Arena.ofConfined()) {
            TensorData t = tensor(arena, 8, 6, 8, 1);
            assertSameElements(t, TensorSlices.rows(t, 2, 3), null, 2, 0);
            assertSameElements(t, TensorSlices.columns(t, 3, 3, arena), null, 0, 3);
        }
    }

    @Test
    void aShardThatCutsAScaleBlockIsRefusedByName() {
        ScaleLayout.Block block = new ScaleLayout.Block(4, 4);
        try (Arena arena = Arena.ofConfined()) {
            TensorData t = tensor(arena, 10, 12, 3, 3);
            var rows = assertThrows(UnshardableTensorException.class, () -> TensorSlices.rows(t, 2, 4, block));
            assertTrue(rows.getMessage().contains("tensor w.weight: a shard of rows [2, 6) does not fall on its block 4x4 scale blocks"),
                    rows.getMessage());
            var cols = assertThrows(UnshardableTensorException.class, () -> TensorSlices.columns(t, 4, 6, arena, block));
            assertTrue(cols.getMessage().contains("columns [4, 10)"), cols.getMessage());
            // without the block size a grid of scales is not guessed at
            assertThrows(RuntimeException.class, () -> TensorSlices.rows(t, 4, 4));
        }
    }
}
