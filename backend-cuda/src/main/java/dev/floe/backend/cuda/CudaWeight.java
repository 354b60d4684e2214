package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;

/**
 * A weight in device memory in its checkpoint format, with its scale converted to float32 on the device:
 * {@code scaleStride} 0 for a scalar scale, 1 for one per row; {@code scale} 0 when unscaled. A block-scaled FP8
 * weight ({@link #block()}) holds the row-major grid of its block scales instead.
 */
final class CudaWeight implements Weight {
    private final CudaBackend owner;
    private final String name;
    private final DType dtype;
    private final long rows;
    private final long cols;
    private final long data;
    private final long scale;
    private final int scaleStride;
    private final long bytes;
    private final ScaleLayout.Block block;
    private boolean closed;

    CudaWeight(CudaBackend owner, String name, DType dtype, long rows, long cols, long data, long scale, int scaleStride,
               long bytes) {
        this(owner, name, dtype, rows, cols, data, scale, scaleStride, null, bytes);
    }

    CudaWeight(CudaBackend owner, String name, DType dtype, long rows, long cols, long data, long scale, int scaleStride,
               ScaleLayout.Block block, long bytes) {
        this.block = block;
        this.owner = owner;
        this.name = name;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.scale = scale;
        this.scaleStride = scaleStride;
        this.bytes = bytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    WeightFormat format() {
        return WeightFormat.of(dtype);
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
        return bytes;
    }

    CudaBackend owner() {
        return owner;
    }

    long data() {
        if (closed) throw new IllegalStateException("weight " + name + " is closed");
        return data;
    }

    /** Device address of the float32 scales, or 0. */
    long scale() {
        return scale;
    }

    int scaleStride() {
        return scaleStride;
    }

    /** The block size of a block-scaled weight, or null. */
    ScaleLayout.Block block() {
        return block;
    }

    /** Closed (freed): an evicted expert. */
    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.release(data);
        if (scale != 0) owner.release(scale);
    }

    @Override
    public String toString() {
        return "CudaWeight[" + name + " " + dtype + " " + rows + "x" + cols + "]";
    }
}
