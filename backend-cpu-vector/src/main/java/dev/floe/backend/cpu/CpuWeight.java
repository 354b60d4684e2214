package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A weight read in place: the kernels dequantise straight from the tensor's memory segment (usually a slice of the
 * memory-mapped checkpoint). Only the scales are copied (one float per row, or one per block of a
 * {@link ScaleLayout.Block} grid), and vectors used as RMSNorm weights are decoded once on first use (a few thousand
 * floats).
 */
final class CpuWeight implements Weight {
    private final TensorData tensor;
    private final MemorySegment data;
    private final long rows;
    private final long cols;
    private final float[] rowScales;
    /** A block-scaled weight's grid, row-major, and its block size; null otherwise. */
    private final float[] blockScales;
    private final ScaleLayout.Block block;
    private volatile int[] permutedColumnBlocks;
    private volatile float[] decoded;
    private volatile boolean scanned;
    private long[] specialRows;
    private volatile boolean closed;

    CpuWeight(TensorData tensor) {
        this(tensor, null, false);
    }

    /** A weight whose scale is laid out as {@code layout} says (checked against the tensor again here). */
    CpuWeight(TensorData tensor, ScaleLayout layout) {
        this(tensor, layout instanceof ScaleLayout.Block b ? b : null, true);
    }

    private CpuWeight(TensorData tensor, ScaleLayout.Block blockSize, boolean blocksAllowed) {
        if (!tensor.dtype().isFloat()) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": dtype " + tensor.dtype() + " is not a weight dtype");
        }
        long[] shape = tensor.shape();
        if (shape.length < 1 || shape.length > 2) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": shape " + Arrays.toString(shape)
                    + " is neither a vector nor a matrix");
        }
        ScaleLayout layout;
        try {
            layout = ScaleLayout.of(tensor, blocksAllowed ? blockSize : null);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        this.tensor = tensor;
        this.data = tensor.data();
        this.rows = tensor.rows();
        this.cols = tensor.cols();
        if (cols > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": " + cols + " columns are too many");
        }
        if (layout instanceof ScaleLayout.Block b) {
            rowScales = null;
            block = b;
            blockScales = FloatFormats.toFloats(tensor.scale(), null);
        } else if (tensor.scale() == null) {
            rowScales = null;
            block = null;
            blockScales = null;
        } else {
            block = null;
            blockScales = null;
            if (rows > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor " + tensor.name() + ": " + rows + " scaled rows are too many");
            }
            rowScales = new float[(int) rows];
            for (int r = 0; r < rows; r++) rowScales[r] = FloatFormats.scale(tensor, r);
        }
    }

    @Override public String name() { return tensor.name(); }
    @Override public DType dtype() { return tensor.dtype(); }
    @Override public long rows() { return rows; }
    @Override public long cols() { return cols; }
    @Override public long byteSize() { return tensor.byteSize(); }

    TensorData tensor() {
        return tensor;
    }

    /** The stored bytes; throws once the weight is closed. */
    MemorySegment data() {
        if (closed) throw new IllegalStateException("weight " + tensor.name() + " is closed");
        return data;
    }

    /** The scale of row {@code r}: 1 without a scale. */
    float rowScale(long r) {
        return rowScales == null ? 1f : rowScales[(int) r];
    }

    boolean scaled() {
        return rowScales != null;
    }

    /** The block size of a block-scaled weight, or null. */
    ScaleLayout.Block block() {
        return block;
    }

    /** The scale of block {@code (rowBlock, colBlock)} of a block-scaled weight. */
    float blockScale(int rowBlock, int colBlock) {
        return blockScales[(int) (rowBlock * block.gridCols(cols)) + colBlock];
    }

    /**
     * For a block-scaled weight: the column block of the element that {@link Matmul#permute} puts at each position of
     * a row, so kernels working in permuted order find each element's scale.
     */
    int[] permutedColumnBlocks() {
        int[] p = permutedColumnBlocks;
        if (p == null) {
            int lanes = Matmul.lanes(tensor.dtype());
            p = new int[(int) cols];
            for (int e = 0; e < cols; e++) p[Matmul.permuted(e, (int) cols, lanes)] = e / block.cols();
            permutedColumnBlocks = p;
        }
        return p;
    }

    /** The scale of element {@code (r, i)}: the row's, or its block's. */
    private float scaleOf(long r, long i) {
        return block == null ? rowScale(r) : blockScale((int) (r / block.rows()), (int) (i / block.cols()));
    }

    /** Element {@code i} of row {@code r}, dequantised and scaled. */
    float get(long r, long i) {
        return FloatFormats.read(tensor, r * cols + i) * scaleOf(r, i);
    }

    /** Writes row {@code r}, dequantised and scaled, times {@code factor}, to {@code dst[off..]}. */
    void row(long r, float factor, float[] dst, int off) {
        data();
        long base = r * cols;
        if (block != null) {
            for (int i = 0; i < cols; i++) dst[off + i] = FloatFormats.read(tensor, base + i) * (scaleOf(r, i) * factor);
            return;
        }
        float s = rowScale(r) * factor;
        for (int i = 0; i < cols; i++) dst[off + i] = FloatFormats.read(tensor, base + i) * s;
    }

    /** Rows holding codes the vector decoders cannot represent (see {@link Matmul#scanSpecialRows}), or null. */
    long[] specialRows() {
        if (!scanned) throw new IllegalStateException("weight " + tensor.name() + " was not scanned");
        return specialRows;
    }

    /** Finds the special rows once, on the pool. */
    void scan(WorkerPool pool) {
        if (scanned) return;
        synchronized (this) {
            if (scanned) return;
            specialRows = Matmul.scanSpecialRows(this, pool);
            scanned = true;
        }
    }

    /** The whole (small) weight as floats, decoded once. */
    float[] decodedVector() {
        float[] d = decoded;
        if (d == null) {
            data();
            d = FloatFormats.toFloats(tensor, block != null ? block : ScaleLayout.of(tensor, null));
            decoded = d;
        }
        return d;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return tensor.toString();
    }
}
