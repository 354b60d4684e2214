package dev.floe.backend.cuda;

import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

/**
 * A pass's {@link StepMetadata} in one device block, copied with a single host-to-device copy: tokens, positions,
 * sequence indices, slots (an int each per row), the RoPE cos and sin rows ({@code [rows, headDim/2]} floats each)
 * and the block tables flattened as the attention kernel reads them ({@link AttentionPlan#flatten}). Every layer's
 * kernels take pointers into it. A captured graph's step ({@link #fixed}) lives in a block the graph owns, with the
 * tables padded to the graph's width and room for one sequence per row, so that every pass the graph replays fits
 * the addresses and widths captured in it.
 */
final class CudaStep implements Step {
    private final CudaBackend owner;
    private final StepMetadata metadata;
    /** The device block; 0 until a kernel first needs it (a pass replayed as a graph never does). */
    private long address;
    private final int maxBlocks;
    private final boolean fixed;
    private boolean closed;

    private CudaStep(CudaBackend owner, StepMetadata metadata, long address, int maxBlocks, boolean fixed) {
        this.owner = owner;
        this.metadata = metadata;
        this.address = address;
        this.maxBlocks = maxBlocks;
        this.fixed = fixed;
    }

    /** The block's contents, floats as their bits: what {@link #of} copies to the device. */
    static int[] pack(StepMetadata m) {
        int[][] tables = m.blockTables();
        return pack(m, AttentionPlan.maxBlocks(tables), tables.length);
    }

    /** Ints of a packed step of {@code rows} rows, tables {@code width} wide for {@code sequences} sequences. */
    static int size(int rows, int headDim, int width, int sequences) {
        return Math.addExact(4 * rows + 2 * rows * (headDim / 2), Math.multiplyExact(Math.max(1, sequences), width));
    }

    /** {@link #pack} with the tables padded to {@code width} blocks for {@code sequences} sequences. */
    static int[] pack(StepMetadata m, int width, int sequences) {
        int n = m.rows(), half = m.headDim() / 2;
        int[][] tables = m.blockTables();
        if (tables.length > Math.max(1, sequences) || AttentionPlan.maxBlocks(tables) > width) {
            throw new IllegalArgumentException("step of " + tables.length + " sequences, " + AttentionPlan.maxBlocks(tables)
                    + " blocks wide, does not fit " + sequences + " sequences of " + width + " blocks");
        }
        int[] out = new int[size(n, m.headDim(), width, sequences)];
        System.arraycopy(m.tokens(), 0, out, 0, n);
        System.arraycopy(m.positions(), 0, out, n, n);
        System.arraycopy(m.sequence(), 0, out, 2 * n, n);
        System.arraycopy(m.slots(), 0, out, 3 * n, n);
        float[] cos = m.ropeCos(), sin = m.ropeSin();
        for (int i = 0; i < n * half; i++) {
            out[4 * n + i] = Float.floatToRawIntBits(cos[i]);
            out[4 * n + n * half + i] = Float.floatToRawIntBits(sin[i]);
        }
        int base = 4 * n + 2 * n * half;
        java.util.Arrays.fill(out, base, out.length, -1);
        // blocks past a row's last one in use are never read (KernelArguments checks only those in use)
        for (int s = 0; s < tables.length; s++) System.arraycopy(tables[s], 0, out, base + s * width, tables[s].length);
        return out;
    }

    /**
     * The step of a pass, copied to the device when a kernel first needs it ({@link CudaBackend#placeStep}): a pass
     * that a captured graph replays reads its metadata from the graph's own block, so this copy is never made.
     */
    static CudaStep of(CudaBackend owner, StepMetadata m) {
        return new CudaStep(owner, m, 0, AttentionPlan.maxBlocks(m.blockTables()), false);
    }

    /**
     * A pass's step seen through a captured graph's block (owned by the graph, never freed here), its tables
     * {@code width} blocks wide.
     */
    static CudaStep fixed(CudaBackend owner, StepMetadata m, long address, int width) {
        return new CudaStep(owner, m, address, width, true);
    }

    /**
     * The key range the attention's splits are planned for: the rows' own range, or for a graph's step every key
     * its tables can address, so that the split count captured in the graph holds for every pass it replays.
     */
    int keys(int blockSize) {
        if (fixed) return Math.multiplyExact(maxBlocks, blockSize);
        int m = 0;
        for (int p : metadata.positions()) m = Math.max(m, p);
        return m + 1;
    }

    CudaBackend owner() {
        return owner;
    }

    private long at(int ints) {
        if (closed) throw new IllegalStateException("step is closed: " + metadata);
        if (address == 0) address = owner.placeStep(metadata);
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
        if (!fixed && address != 0) owner.release(address);
    }

    @Override
    public String toString() {
        return "CudaStep[" + metadata + "]";
    }
}
