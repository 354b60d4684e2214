package dev.floe.runtime.checkpoint;

import dev.floe.api.TensorData;
import dev.floe.spi.ScaleLayout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Shards of a 2-D checkpoint tensor {@code [rows, cols]}, for tensor-parallel ranks that hold only their part. A block
 * of rows is a view of the mapped bytes (nothing is read until the backend places it); a block of columns is copied
 * row by row into an arena, reading only those columns. The scale (FP8) follows its {@link ScaleLayout}: a scalar is
 * kept; one scale per row is sliced with the rows and kept whole with the columns; a grid of block scales is sliced
 * along the blocks, which the shard's edges must fall on (an error names the tensor, the range and the block size).
 */
public final class TensorSlices {
    private TensorSlices() {
    }

    /** Rows {@code [start, start + count)} of a tensor whose scale, if any, is scalar or per row. */
    public static TensorData rows(TensorData t, long start, long count) {
        return rows(t, start, count, null);
    }

    /** Rows {@code [start, start + count)}; {@code block} is the checkpoint's scale block size, or null. */
    public static TensorData rows(TensorData t, long start, long count, ScaleLayout.Block block) {
        long rows = t.rows(), cols = t.cols();
        check(t, "rows", start, count, rows);
        long rowBytes = cols * t.dtype().bytes();
        MemorySegment data = t.data().asSlice(start * rowBytes, count * rowBytes);
        TensorData scale = t.scale();
        switch (ScaleLayout.of(t, block)) {
            case ScaleLayout.Channel c -> scale = slice(scale, start, count, 1);
            case ScaleLayout.Block b -> {
                aligned(t, "rows", start, count, rows, b.rows(), b);
                long first = start / b.rows(), end = b.gridRows(start + count);
                scale = slice(scale, first, end - first, b.gridCols(cols));
            }
            case null, default -> { } // no scale, or one for the whole tensor
        }
        return new TensorData(t.name(), t.dtype(), new long[]{count, cols}, data, scale);
    }

    /** Columns {@code [start, start + count)} of every row of a tensor whose scale, if any, is scalar or per row. */
    public static TensorData columns(TensorData t, long start, long count, Arena arena) {
        return columns(t, start, count, arena, null);
    }

    /** Columns {@code [start, start + count)} of every row, copied into {@code arena}; {@code block} as for rows. */
    public static TensorData columns(TensorData t, long start, long count, Arena arena, ScaleLayout.Block block) {
        long rows = t.rows(), cols = t.cols();
        check(t, "columns", start, count, cols);
        TensorData scale = t.scale();
        if (ScaleLayout.of(t, block) instanceof ScaleLayout.Block b) {
            aligned(t, "columns", start, count, cols, b.cols(), b);
            long first = start / b.cols(), n = b.gridCols(start + count) - first;
            scale = copyColumns(scale, b.gridRows(rows), b.gridCols(cols), first, n, arena);
        }
        return new TensorData(t.name(), t.dtype(), new long[]{rows, count}, copyColumns(t, rows, cols, start, count, arena).data(), scale);
    }

    /** {@code count} consecutive groups of {@code width} elements from group {@code first} on, as a view. */
    private static TensorData slice(TensorData s, long first, long count, long width) {
        long w = s.dtype().bytes();
        long[] shape = s.shape().length == 2 ? new long[]{count, s.shape()[1]} : new long[]{count * width};
        return new TensorData(s.name(), s.dtype(), shape, s.data().asSlice(first * width * w, count * width * w), null);
    }

    /** Columns {@code [start, start + count)} of a {@code [rows, cols]} tensor, copied row by row. */
    private static TensorData copyColumns(TensorData t, long rows, long cols, long start, long count, Arena arena) {
        long e = t.dtype().bytes();
        MemorySegment data = arena.allocate(rows * count * e, 64);
        for (long r = 0; r < rows; r++) {
            MemorySegment.copy(t.data(), (r * cols + start) * e, data, r * count * e, count * e);
        }
        return new TensorData(t.name(), t.dtype(), new long[]{rows, count}, data, null);
    }

    /** A shard's edges must fall on scale blocks (the last may end where the tensor does, in a ragged block). */
    private static void aligned(TensorData t, String what, long start, long count, long limit, int size, ScaleLayout.Block b) {
        long end = start + count;
        if (start % size != 0 || (end % size != 0 && end != limit)) {
            throw new UnshardableTensorException("tensor " + t.name() + ": a shard of " + what + " [" + start + ", " + end
                    + ") does not fall on its " + b + " scale blocks; choose a tensor-parallel size that splits the "
                    + limit + " " + what + " into multiples of " + size);
        }
    }

    private static void check(TensorData t, String what, long start, long count, long limit) {
        if (t.shape().length != 2) throw new IllegalArgumentException("tensor " + t.name() + " is not a matrix: " + t);
        if (start < 0 || count < 1 || start + count > limit) {
            throw new IllegalArgumentException("tensor " + t.name() + ": " + what + " [" + start + ", " + (start + count)
                    + ") outside [0, " + limit + ")");
        }
    }
}
