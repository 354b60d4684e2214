package dev.floe.spi;

/**
 * The argument rules every backend applies to the index arrays its kernels trust (a kernel that reads past a cache
 * corrupts other work or crashes), written once so that every backend accepts and refuses the same calls with the
 * same message. Checks are O(rows + blocks in use): cheap enough to stay on in production. A backend with step
 * metadata applies them once per step, not once per layer.
 */
public final class KernelArguments {
    private KernelArguments() {
    }

    /**
     * Every row of {@code batch} has a block table, a position {@code >= 0} that its table covers, and every block it
     * reads ({@code 0 .. position / blockSize}) inside the cache. Blocks past the last one in use are not read and not
     * checked (a sequence's table may be allocated ahead).
     */
    public static void attentionBatch(String operation, AttentionBatch batch, KvLayout layout) {
        int tables = batch.blockTables().length;
        for (int r = 0; r < batch.rows(); r++) {
            int seq = batch.sequenceOf(r);
            int pos = batch.position(r);
            if (seq < 0 || seq >= tables) {
                throw new IllegalArgumentException(operation + ": sequence[" + r + "] = " + seq + " is outside [0, " + tables + ")");
            }
            if (pos < 0) throw new IllegalArgumentException(operation + ": positions[" + r + "] = " + pos + " is negative");
            int[] table = batch.blockTable(seq);
            int lastBlock = pos / layout.blockSize();
            if (lastBlock >= table.length) {
                throw new IllegalArgumentException(operation + ": positions[" + r + "] = " + pos + " needs block " + lastBlock
                        + " but blockTables[" + seq + "] has " + table.length + " blocks");
            }
            for (int b = 0; b <= lastBlock; b++) {
                if (table[b] < 0 || table[b] >= layout.blocks()) {
                    throw new IllegalArgumentException(operation + ": blockTables[" + seq + "][" + b + "] = " + table[b]
                            + " is outside the cache's blocks [0, " + layout.blocks() + ")");
                }
            }
        }
    }

    /** The first {@code rows} slots exist and lie inside the cache. */
    public static void slots(String operation, int[] slots, int rows, KvLayout layout) {
        if (rows < 0 || slots.length < rows) {
            throw new IllegalArgumentException(operation + ": " + slots.length + " slots for " + rows + " rows");
        }
        for (int r = 0; r < rows; r++) {
            if (slots[r] < 0 || slots[r] >= layout.slots()) {
                throw new IllegalArgumentException(operation + ": slots[" + r + "] = " + slots[r]
                        + " is outside the cache's slots [0, " + layout.slots() + ")");
            }
        }
    }

    /** Every id is a row of the embedding table {@code table} of {@code rows} rows. */
    public static void tokenIds(String operation, int[] ids, long rows, String table) {
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0 || ids[r] >= rows) {
                throw new IllegalArgumentException(operation + ": ids[" + r + "] = token id " + ids[r] + " is outside the "
                        + rows + " rows of " + table);
            }
        }
    }
}
