package dev.floe.backend.cuda;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.KvLayout;

import java.util.Arrays;

/**
 * An {@link AttentionBatch} checked against a cache layout and flattened into the arrays the attention kernel
 * reads: block tables padded to {@code maxBlocks} per sequence (padding -1, never read: a row only reads blocks
 * up to its own position, which the check guarantees exist).
 */
record AttentionPlan(int rows, int heads, int[] positions, int[] sequence, int[] tables, int maxBlocks) {

    static AttentionPlan of(AttentionBatch batch, KvLayout layout) {
        int heads = batch.heads();
        if (heads < 1 || heads % layout.kvHeads() != 0) {
            throw new IllegalArgumentException("attention heads=" + heads + " is not a positive multiple of the cache's "
                    + layout.kvHeads() + " KV heads");
        }
        if (layout.headDim() > Launch.ATT_MAX_DIM) {
            throw new IllegalArgumentException("headDim=" + layout.headDim() + " exceeds the attention kernel's "
                    + Launch.ATT_MAX_DIM);
        }
        int[][] tables = batch.blockTables();
        int maxBlocks = 1;
        for (int[] t : tables) maxBlocks = Math.max(maxBlocks, t.length);
        int[] flat = new int[Math.multiplyExact(Math.max(1, tables.length), maxBlocks)];
        Arrays.fill(flat, -1);
        for (int s = 0; s < tables.length; s++) {
            for (int b = 0; b < tables[s].length; b++) {
                int block = tables[s][b];
                if (block < 0 || block >= layout.blocks()) {
                    throw new IllegalArgumentException("blockTables[" + s + "][" + b + "]=" + block
                            + " outside the cache's " + layout.blocks() + " blocks");
                }
                flat[s * maxBlocks + b] = block;
            }
        }
        int rows = batch.rows();
        int[] positions = batch.positions();
        int[] sequence = batch.sequence();
        for (int r = 0; r < rows; r++) {
            int s = sequence[r], p = positions[r];
            if (s < 0 || s >= tables.length) {
                throw new IllegalArgumentException("sequence[" + r + "]=" + s + " but there are " + tables.length + " block tables");
            }
            if (p < 0) throw new IllegalArgumentException("positions[" + r + "]=" + p + " is negative");
            if (p / layout.blockSize() >= tables[s].length) {
                throw new IllegalArgumentException("positions[" + r + "]=" + p + " needs block " + p / layout.blockSize()
                        + " of sequence " + s + ", whose table has " + tables[s].length + " blocks");
            }
        }
        return new AttentionPlan(rows, heads, positions, sequence, flat, maxBlocks);
    }
}
