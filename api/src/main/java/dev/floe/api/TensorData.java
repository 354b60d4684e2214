package dev.floe.api;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: its raw little-endian bytes (usually a slice of a memory-mapped file) and, for quantised
 * weights, the scale that turns stored values into real ones.
 *
 * @param name  the checkpoint name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype element type of {@code data}
 * @param shape dimensions, outermost first ({@code [out, in]} for linear weights)
 * @param data  the elements, exactly {@code numel * dtype.bytes()} bytes
 * @param scale per-output-row ({@code [out]} or {@code [out, 1]}) or scalar ({@code [1]}) F32 scale, a grid of block
 *              scales ({@code [ceil(out/bn), ceil(in/bk)]}, the block size coming from the checkpoint's config; see
 *              {@code dev.floe.spi.ScaleLayout}), or null
 */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment data, TensorData scale) {
    public TensorData {
        shape = shape.clone();
        if (data.byteSize() != numel(shape) * dtype.bytes()) {
            throw new ModelFormatException("tensor " + name + ": " + data.byteSize() + " bytes do not hold shape "
                    + Arrays.toString(shape) + " of " + dtype);
        }
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    /** Rows of a 2-D tensor (the first dimension), or 1 for a vector. */
    public long rows() {
        return shape.length == 1 ? 1 : shape[0];
    }

    /** Columns of a 2-D tensor (the last dimension). */
    public long cols() {
        return shape[shape.length - 1];
    }

    /** Bytes of data, plus those of the scale. */
    public long byteSize() {
        return data.byteSize() + (scale == null ? 0 : scale.byteSize());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The same tensor with a scale attached. */
    public TensorData withScale(TensorData newScale) {
        return new TensorData(name, dtype, shape, data, newScale);
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new ModelFormatException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + (scale == null ? "" : " scaled");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.data.equals(data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
