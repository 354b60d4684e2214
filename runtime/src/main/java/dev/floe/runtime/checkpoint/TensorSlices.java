package dev.floe.runtime.checkpoint;

import dev.floe.api.TensorData;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Shards of a 2-D checkpoint tensor {@code [rows, cols]}, for tensor-parallel ranks that hold only their part. A block
 * of rows is a view of the mapped bytes (nothing is read until the backend places it); a block of columns is copied
 * row by row into an arena, reading only those columns. A per-row scale (FP8) follows the rows: it is sliced with a
 * block of rows and kept whole with a block of columns; a scalar scale is kept as it is.
 */
public final class TensorSlices {
    private TensorSlices() {
    }

    /** Rows {@code [start, start + count)}. */
    public static TensorData rows(TensorData t, long start, long count) {
        long rows = t.rows(), cols = t.cols();
        check(t, "rows", start, count, rows);
        long rowBytes = cols * t.dtype().bytes();
        MemorySegment data = t.data().asSlice(start * rowBytes, count * rowBytes);
        TensorData scale = t.scale();
        if (scale != null && scale.numel() == rows && rows > 1) {
            long w = (long) scale.dtype().bytes();
            long[] shape = scale.shape();
            shape[0] = count;
            scale = new TensorData(scale.name(), scale.dtype(), shape, scale.data().asSlice(start * w, count * w), null);
        }
        return new TensorData(t.name(), t.dtype(), new long[]{count, cols}, data, scale);
    }

    /** Columns {@code [start, start + count)} of every row, copied into {@code arena}. */
    public static TensorData columns(TensorData t, long start, long count, Arena arena) {
        long rows = t.rows(), cols = t.cols();
        check(t, "columns", start, count, cols);
        long e = t.dtype().bytes();
        MemorySegment data = arena.allocate(rows * count * e, 64);
        for (long r = 0; r < rows; r++) {
            MemorySegment.copy(t.data(), (r * cols + start) * e, data, r * count * e, count * e);
        }
        return new TensorData(t.name(), t.dtype(), new long[]{rows, count}, data, t.scale());
    }

    private static void check(TensorData t, String what, long start, long count, long limit) {
        if (t.shape().length != 2) throw new IllegalArgumentException("tensor " + t.name() + " is not a matrix: " + t);
        if (start < 0 || count < 1 || start + count > limit) {
            throw new IllegalArgumentException("tensor " + t.name() + ": " + what + " [" + start + ", " + (start + count)
                    + ") outside [0, " + limit + ")");
        }
    }
}
