package dev.floe.backend.cuda;

import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

/**
 * A pass's {@link StepMetadata} in one device block, copied with a single host-to-device copy: tokens, positions,
 * sequence indices, slots (an int each per row), the RoPE cos and sin rows ({@code [rows, headDim/2]} floats each)
 * and the block tables flattened as the attention kernel reads them ({@link AttentionPlan#flatten}). Every layer's
 * kernels take pointers into it.
 */
final class CudaStep implements Step {
    private final CudaBackend owner;
    private final StepMetadata metadata;
    private final long address;
    private final int maxBlocks;
    private boolean closed;

    private CudaStep(CudaBackend owner, StepMetadata metadata, long address, int maxBlocks) {
        this.owner = owner;
        this.metadata = metadata;
        this.address = address;
        this.maxBlocks = maxBlocks;
    }

    /** The block's contents, floats as their bits: what {@link #of} copies to the device. */
    static int[] pack(StepMetadata m) {
        int n = m.rows(), half = m.headDim() / 2;
        int[][] tables = m.blockTables();
        int[] flat = AttentionPlan.flatten(tables, AttentionPlan.maxBlocks(tables));
        int[] out = new int[4 * n + 2 * n * half + flat.length];
        System.arraycopy(m.tokens(), 0, out, 0, n);
        System.arraycopy(m.positions(), 0, out, n, n);
        System.arraycopy(m.sequence(), 0, out, 2 * n, n);
        System.arraycopy(m.slots(), 0, out, 3 * n, n);
        float[] cos = m.ropeCos(), sin = m.ropeSin();
        for (int i = 0; i < n * half; i++) {
            out[4 * n + i] = Float.floatToRawIntBits(cos[i]);
            out[4 * n + n * half + i] = Float.floatToRawIntBits(sin[i]);
        }
        System.arraycopy(flat, 0, out, 4 * n + 2 * n * half, flat.length);
        return out;
    }

    /** Allocates the block and stages {@link #pack} into it, asynchronously in stream order. */
    static CudaStep of(CudaBackend owner, StepMetadata m, long address) {
        return new CudaStep(owner, m, address, AttentionPlan.maxBlocks(m.blockTables()));
    }

    CudaBackend owner() {
        return owner;
    }

    private long at(int ints) {
        if (closed) throw new IllegalStateException("step is closed: " + metadata);
        return address + 4L * ints;
    }

    long tokens() {
        return at(0);
    }

    long positions() {
        return at(rows());
    }

    long sequence() {
        return at(2 * rows());
    }

    long slots() {
        return at(3 * rows());
    }

    long cos() {
        return at(4 * rows());
    }

    long sin() {
        return at(4 * rows() + rows() * (metadata.headDim() / 2));
    }

    long tables() {
        return at(4 * rows() + 2 * rows() * (metadata.headDim() / 2));
    }

    int maxBlocks() {
        return maxBlocks;
    }

    @Override
    public StepMetadata metadata() {
        return metadata;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.release(address);
    }

    @Override
    public String toString() {
        return "CudaStep[" + metadata + "]";
    }
}
