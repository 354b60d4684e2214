package dev.floe.backend.opencl;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

/**
 * A pass's metadata in device memory, written once when the pass starts ({@link OpenClBackend#step}) and read by
 * every layer's {@code embed}, {@code rope}, {@code storeKv} and {@code attention} kernels: nothing travels per call.
 * Two memory objects: the ints (token ids, KV slots, then the attention batch in the kernel's layout: positions,
 * sequence indices, the start of each block table, the tables) and the rotation rows (per row, {@code headDim/2}
 * cosines then {@code headDim/2} sines, as the {@code rope} kernel reads them).
 */
final class ClStep extends DeviceMemory implements Step {
    private final StepMetadata metadata;
    private final AttentionBatch attention;
    private final long ints;
    private final long rotations;

    ClStep(OpenClBackend owner, StepMetadata metadata, AttentionBatch attention, long ints, long rotations, long bytes) {
        super(owner, new long[]{ints, rotations}, bytes);
        this.metadata = metadata;
        this.attention = attention;
        this.ints = ints;
        this.rotations = rotations;
    }

    /** The ints of a step: tokens, slots, then the attention batch as {@link #attentionInts} lays it out. */
    static int[] ints(StepMetadata m, AttentionBatch batch) {
        int rows = m.rows();
        int[] attention = attentionInts(batch);
        int[] out = new int[2 * rows + attention.length];
        for (int r = 0; r < rows; r++) {
            out[r] = m.token(r);
            out[rows + r] = m.slot(r);
        }
        System.arraycopy(attention, 0, out, 2 * rows, attention.length);
        return out;
    }

    /** The attention batch as one int array: positions, sequence, the start of each table, then the tables. */
    static int[] attentionInts(AttentionBatch batch) {
        int rows = batch.rows();
        int[][] tables = batch.blockTables();
        int total = 0;
        for (int[] t : tables) total += t.length;
        int[] meta = new int[2 * rows + tables.length + total];
        System.arraycopy(batch.positions(), 0, meta, 0, rows);
        System.arraycopy(batch.sequence(), 0, meta, rows, rows);
        for (int s = 0, at = 2 * rows + tables.length; s < tables.length; s++) {
            meta[2 * rows + s] = at - (2 * rows + tables.length);
            System.arraycopy(tables[s], 0, meta, at, tables[s].length);
            at += tables[s].length;
        }
        return meta;
    }

    /**
     * The bits of the rotation rows as the {@code rope} kernel reads them (as floats): per row, the cosines then the
     * sines.
     */
    static int[] rotationBits(StepMetadata m) {
        int rows = m.rows(), half = m.headDim() / 2;
        int[] cs = new int[Math.max(1, rows * 2 * half)];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < half; j++) {
                cs[r * 2 * half + j] = Float.floatToRawIntBits(m.cos(r, j));
                cs[r * 2 * half + half + j] = Float.floatToRawIntBits(m.sin(r, j));
            }
        }
        return cs;
    }

    @Override
    public StepMetadata metadata() {
        return metadata;
    }

    AttentionBatch attention() {
        return attention;
    }

    /** The int memory object: tokens at 0, slots at {@code rows}, the attention batch at {@code 2 * rows}. */
    long ints() {
        return ints;
    }

    long tokensOffset() {
        return 0;
    }

    long slotsOffset() {
        return rows();
    }

    long attentionOffset() {
        return 2L * rows();
    }

    long rotations() {
        return rotations;
    }

    @Override
    String label() {
        return "step of " + rows() + " rows";
    }
}
