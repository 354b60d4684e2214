package dev.floe.backend.cuda;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.KernelArguments;
import dev.floe.spi.KvLayout;

import java.util.Arrays;

/**
 * An {@link AttentionBatch} checked against a cache layout and flattened into the arrays the attention kernel
 * reads: block tables padded to {@code maxBlocks} per sequence (padding -1, never read: a row only reads blocks
 * up to its own position, which the check guarantees exist).
 */
record AttentionPlan(int rows, int heads, int[] positions, int[] sequence, int[] tables, int maxBlocks) {
    /** Fewest keys worth a split of their own. */
    static final int SPLIT_MIN_KEYS = 256;
    static final int MAX_SPLITS = 32;

    /** The largest position of any row: the key range is {@code 0..maxPosition()}. */
    int maxPosition() {
        int m = 0;
        for (int p : positions) m = Math.max(m, p);
        return m;
    }

    /**
     * How many blocks share one (row, head)'s key range (flash-decoding). Splitting pays when (row, head) pairs
     * alone cannot fill the device (decode: few rows) and the context is long; each split takes at least
     * {@value #SPLIT_MIN_KEYS} keys.
     */
    int splits(int multiprocessors) {
        return splits(multiprocessors, maxPosition() + 1);
    }

    /** {@link #splits(int)} for a key range of {@code keys} (at least the rows' own). */
    int splits(int multiprocessors, int keys) {
        long blocks = (long) rows * heads;
        if (blocks == 0 || blocks >= 2L * multiprocessors) return 1;
        int byLength = Math.ceilDiv(keys, SPLIT_MIN_KEYS);
        int byOccupancy = (int) Math.ceilDiv(2L * multiprocessors, blocks);
        return Math.clamp(Math.min(byLength, byOccupancy), 1, MAX_SPLITS);
    }

    /** Keys per split. */
    int chunk(int splits) {
        return chunk(splits, maxPosition() + 1);
    }

    /** Keys per split of a range of {@code keys}. */
    static int chunk(int splits, int keys) {
        return Math.ceilDiv(keys, splits);
    }

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
        KernelArguments.attentionBatch("attention", batch, layout);
        int[][] tables = batch.blockTables();
        int maxBlocks = maxBlocks(tables);
        return new AttentionPlan(batch.rows(), heads, batch.positions(), batch.sequence(), flatten(tables, maxBlocks), maxBlocks);
    }

    /** Blocks per sequence of the flattened tables: the longest table's (at least 1). */
    static int maxBlocks(int[][] tables) {
        int maxBlocks = 1;
        for (int[] t : tables) maxBlocks = Math.max(maxBlocks, t.length);
        return maxBlocks;
    }

    /** The tables as the kernel reads them: {@code maxBlocks} entries per sequence, padded with -1. */
    static int[] flatten(int[][] tables, int maxBlocks) {
        int[] flat = new int[Math.multiplyExact(Math.max(1, tables.length), maxBlocks)];
        Arrays.fill(flat, -1);
        // blocks past a row's last one in use are never read (KernelArguments checks only those in use)
        for (int s = 0; s < tables.length; s++) System.arraycopy(tables[s], 0, flat, s * maxBlocks, tables[s].length);
        return flat;
    }
}
