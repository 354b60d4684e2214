package dev.floe.tck.oracle;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.ScaleLayout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix as raw little-endian checkpoint bytes plus an optional per-row, scalar or block scale, readable
 * element by element as float64 with {@link Formats}. {@link #tensor()} gives the same bytes as the {@link TensorData} a
 * backend receives.
 *
 * @param scale null, one scale, one per row, or (with {@code block}) the row-major grid of block scales
 * @param block the block size of a block-scaled weight, or null
 */
public record OracleWeight(String name, DType dtype, int rows, int cols, byte[] data, float[] scale, ScaleLayout.Block block) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public OracleWeight {
        if (data.length != (long) rows * cols * dtype.bytes()) {
            throw new IllegalArgumentException(name + ": " + data.length + " bytes for " + rows + "x" + cols + " " + dtype);
        }
        if (block != null && (scale == null || scale.length != block.gridRows(rows) * block.gridCols(cols))) {
            throw new IllegalArgumentException(name + ": " + (scale == null ? 0 : scale.length) + " scales for the "
                    + block.gridRows(rows) + "x" + block.gridCols(cols) + " grid of " + block);
        }
        if (block == null && scale != null && scale.length != 1 && scale.length != rows) {
            throw new IllegalArgumentException(name + ": " + scale.length + " scales for " + rows + " rows");
        }
    }

    /** A weight with no scale, one scale or one per row. */
    public OracleWeight(String name, DType dtype, int rows, int cols, byte[] data, float[] scale) {
        this(name, dtype, rows, cols, data, scale, null);
    }

    /** How {@link #scale} maps onto the elements, or null without a scale. */
    public ScaleLayout layout() {
        if (scale == null) return null;
        if (block != null) return block;
        return scale.length == 1 ? new ScaleLayout.Tensor() : new ScaleLayout.Channel();
    }

    /** Raw code of element {@code (r, c)}: the float bits for F32, the 16-bit pattern, or the FP8 byte. */
    public int code(int r, int c) {
        int i = (r * cols + c) * dtype.bytes();
        return switch (dtype.bytes()) {
            case 1 -> data[i] & 0xFF;
            case 2 -> (data[i] & 0xFF) | (data[i + 1] & 0xFF) << 8;
            default -> (data[i] & 0xFF) | (data[i + 1] & 0xFF) << 8 | (data[i + 2] & 0xFF) << 16 | (data[i + 3] & 0xFF) << 24;
        };
    }

    /** The real value of element {@code (r, c)}: decoded, times the row's scale. */
    public double get(int r, int c) {
        int code = code(r, c);
        double v = switch (dtype) {
            case F32 -> Float.intBitsToFloat(code);
            case F16 -> Formats.f16(code);
            case BF16 -> Formats.bf16(code);
            case F8_E4M3 -> Formats.e4m3(code);
            case F8_E5M2 -> Formats.e5m2(code);
            default -> throw new IllegalArgumentException(name + ": " + dtype + " is not a weight dtype");
        };
        return v * scaleOf(r, c);
    }

    /** The scale of element {@code (r, c)} (1 without scale). */
    public double scaleOf(int r, int c) {
        return scale == null ? 1 : scale[(int) layout().index(r, c, cols)];
    }

    /** The same bytes as a checkpoint tensor (a vector when {@code rows == 1 && vector}). */
    public TensorData tensor(boolean vector) {
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, data.length));
        seg = seg.asSlice(0, data.length);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, seg, 0, data.length);
        long[] shape = vector ? new long[]{cols} : new long[]{rows, cols};
        TensorData s = null;
        if (scale != null) {
            MemorySegment ss = Arena.ofAuto().allocate((long) scale.length * 4);
            for (int i = 0; i < scale.length; i++) ss.setAtIndex(F32, i, scale[i]);
            long[] scaleShape = block == null ? new long[]{scale.length} : new long[]{block.gridRows(rows), block.gridCols(cols)};
            s = new TensorData(name + (block == null ? "_scale" : "_scale_inv"), DType.F32, scaleShape, ss, null);
        }
        return new TensorData(name, dtype, shape, seg, s);
    }

    /** A float32 weight from values. */
    public static OracleWeight ofFloats(String name, int rows, int cols, float[] values) {
        byte[] b = new byte[values.length * 4];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (bits >>> (8 * k));
        }
        return new OracleWeight(name, DType.F32, rows, cols, b, null);
    }
}
