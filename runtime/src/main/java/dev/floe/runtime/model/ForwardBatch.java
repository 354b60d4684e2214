package dev.floe.runtime.model;

import java.util.Arrays;

/**
 * The tokens of one forward pass, possibly from several sequences (continuous batching): row r feeds token
 * {@code tokens[r]} of sequence {@code sequence[r]} at {@code positions[r]}; its KV goes to that sequence's block
 * table. Logits are computed for {@code logitRows} only (all rows for a golden check, the last row of each sequence
 * when generating). With {@code keysBeforeRope} (attention-sink windows) keys are cached before RoPE and positions
 * are indices in each sequence's cache, not in its text.
 */
public record ForwardBatch(int[] tokens, int[] positions, int[] sequence, int[][] blockTables, int[] logitRows,
                           boolean keysBeforeRope) {
    public ForwardBatch {
        int n = tokens.length;
        if (n == 0) throw new IllegalArgumentException("a forward pass needs at least one token");
        if (positions.length != n || sequence.length != n) {
            throw new IllegalArgumentException(n + " tokens, " + positions.length + " positions, " + sequence.length + " sequence indices");
        }
        for (int r : logitRows) {
            if (r < 0 || r >= n) throw new IllegalArgumentException("logit row " + r + " outside [0, " + n + ")");
        }
        for (int s : sequence) {
            if (s < 0 || s >= blockTables.length) throw new IllegalArgumentException("sequence index " + s + " without a block table");
        }
    }

    /** Keys cached after RoPE, positions in the text (the usual case). */
    public ForwardBatch(int[] tokens, int[] positions, int[] sequence, int[][] blockTables, int[] logitRows) {
        this(tokens, positions, sequence, blockTables, logitRows, false);
    }

    /** One sequence's tokens at consecutive positions from {@code start}. */
    public static ForwardBatch single(int[] tokens, int start, int[] blockTable, int[] logitRows) {
        int[] pos = new int[tokens.length];
        for (int i = 0; i < pos.length; i++) pos[i] = start + i;
        return new ForwardBatch(tokens, pos, new int[tokens.length], new int[][]{blockTable}, logitRows);
    }

    /** {@code [0, n)}. */
    public static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    public int rows() {
        return tokens.length;
    }

    @Override
    public String toString() {
        return "ForwardBatch[tokens=" + Arrays.toString(tokens) + ", positions=" + Arrays.toString(positions) + "]";
    }
}
