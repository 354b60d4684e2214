package dev.floe.spi;

import java.util.Arrays;

/**
 * Which keys each query row of an attention call sees. Row {@code r} belongs to sequence {@code sequence[r]} and sits
 * at position {@code positions[r]}; it attends causally to that sequence's positions {@code 0..positions[r]}. The key
 * of position {@code p} of sequence {@code s} lives in KV slot
 * {@code blockTables[s][p / blockSize] * blockSize + p % blockSize}.
 *
 * @param heads       query heads (a multiple of the cache's KV heads: query head h reads KV head
 *                    {@code h / (heads / kvHeads)})
 * @param positions   absolute position of each query row
 * @param sequence    sequence index of each query row, into {@code blockTables}
 * @param blockTables for each sequence, its physical KV blocks in logical order
 * @param keyRopeTheta 0 when cached keys are already rotated (the usual case); otherwise keys are cached before RoPE
 *                     and the key at logical cache index {@code i} is rotated by angle {@code i} with this theta at
 *                     attention time (positions are then cache indices; needs {@link Capability#ATTENTION_SINKS})
 */
public record AttentionBatch(int heads, int[] positions, int[] sequence, int[][] blockTables, float keyRopeTheta) {
    public AttentionBatch {
        if (!(keyRopeTheta >= 0) || Float.isInfinite(keyRopeTheta)) {
            throw new IllegalArgumentException("keyRopeTheta: " + keyRopeTheta + " is not a finite number >= 0");
        }
        if (positions.length != sequence.length) {
            throw new IllegalArgumentException(positions.length + " positions but " + sequence.length + " sequence indices");
        }
        positions = positions.clone();
        sequence = sequence.clone();
        blockTables = Arrays.stream(blockTables).map(int[]::clone).toArray(int[][]::new);
    }

    /** Keys cached already rotated. */
    public AttentionBatch(int heads, int[] positions, int[] sequence, int[][] blockTables) {
        this(heads, positions, sequence, blockTables, 0f);
    }

    /** Whether keys are cached before RoPE and rotated by their cache index here. */
    public boolean rotatesKeys() {
        return keyRopeTheta > 0;
    }

    /** A single sequence whose rows sit at {@code positions}. */
    public static AttentionBatch single(int heads, int[] positions, int[] blockTable) {
        return new AttentionBatch(heads, positions, new int[positions.length], new int[][]{blockTable});
    }

    public int rows() {
        return positions.length;
    }

    /** The KV slot of position {@code pos} of sequence {@code seq}. */
    public int slot(int seq, int pos, int blockSize) {
        return blockTables[seq][pos / blockSize] * blockSize + pos % blockSize;
    }

    @Override
    public int[] positions() {
        return positions.clone();
    }

    @Override
    public int[] sequence() {
        return sequence.clone();
    }

    /** Position of row r without copying the array. */
    public int position(int r) {
        return positions[r];
    }

    /** Sequence of row r without copying the array. */
    public int sequenceOf(int r) {
        return sequence[r];
    }

    /** Block table of sequence s without copying. */
    public int[] blockTable(int s) {
        return blockTables[s];
    }

    @Override
    public int[][] blockTables() {
        return Arrays.stream(blockTables).map(int[]::clone).toArray(int[][]::new);
    }
}
