package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;

/**
 * A weight in its checkpoint dtype on the device: the raw little-endian bytes, plus float32 scales (one per row, or
 * one for all rows when {@code scaleStride} is 0; an unscaled weight has the single scale 1), or for a block-scaled
 * FP8 weight the row-major grid of its block scales ({@link #block()}).
 */
final class ClWeight extends DeviceMemory implements Weight {
    private final String name;
    private final DType dtype;
    private final long rows;
    private final long cols;
    private final long data;
    private final long scale;
    private final int scaleStride;
    private final ScaleLayout.Block block;

    ClWeight(OpenClBackend owner, String name, DType dtype, long rows, long cols, long data, long scale,
             int scaleStride, long bytes) {
        this(owner, name, dtype, rows, cols, data, scale, scaleStride, null, bytes);
    }

    ClWeight(OpenClBackend owner, String name, DType dtype, long rows, long cols, long data, long scale,
             int scaleStride, ScaleLayout.Block block, long bytes) {
        super(owner, new long[]{data, scale}, bytes);
        this.block = block;
        this.name = name;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.scale = scale;
        this.scaleStride = scaleStride;
    }

    long data() {
        return data;
    }

    long scale() {
        return scale;
    }

    int scaleStride() {
        return scaleStride;
    }

    /** The block size of a block-scaled weight (its scale buffer is then the grid), or null. */
    ScaleLayout.Block block() {
        return block;
    }

    /** The suffix of this dtype's kernels in kernels.cl. */
    String kernelSuffix() {
        return switch (dtype) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            case F8_E4M3 -> "e4m3";
            case F8_E5M2 -> "e5m2";
            case I32, I64 -> throw new IllegalStateException("weight " + name + " has non-float dtype " + dtype);
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long rows() {
        return rows;
    }

    @Override
    public long cols() {
        return cols;
    }

    @Override
    public long byteSize() {
        return bytes();
    }

    @Override
    String label() {
        return "weight " + name;
    }
}
