package dev.floe.spi;

import dev.floe.api.RopeScaling;

import java.util.Arrays;

/**
 * What one forward pass needs besides activations and weights, described once by the runtime and handed to the
 * backend once ({@link Backend#step}): row {@code r} feeds token {@code tokens[r]} of sequence {@code sequence[r]} at
 * {@code positions[r]}, its key and value go to KV slot {@code slots[r]}, and its queries and keys rotate by the
 * angles whose cos and sin are row {@code r} of {@code ropeCos}/{@code ropeSin} ({@code [rows][headDim / 2]}, see
 * {@link RopeTable}). Attention reads each sequence's keys through {@code blockTables}.
 *
 * @param heads          query heads of attention
 * @param headDim        width of one head
 * @param ropeTheta      the RoPE base the rotation rows were computed with
 * @param keysBeforeRope keys are cached before RoPE and rotated by their cache index at attention time (attention-sink
 *                       windows, needs {@link Capability#ATTENTION_SINKS}); {@code rope} is then not applied to keys
 */
public record StepMetadata(int[] tokens, int[] positions, int[] sequence, int[][] blockTables, int blockSize,
                           int[] slots, int heads, int headDim, float ropeTheta, boolean keysBeforeRope,
                           float[] ropeCos, float[] ropeSin) {
    public StepMetadata {
        int n = tokens.length;
        if (positions.length != n || sequence.length != n || slots.length != n) {
            throw new IllegalArgumentException("step metadata: " + n + " tokens, " + positions.length + " positions, "
                    + sequence.length + " sequence indices, " + slots.length + " slots");
        }
        if (heads < 1 || headDim < 2 || headDim % 2 != 0 || blockSize < 1) {
            throw new IllegalArgumentException("step metadata: heads " + heads + ", headDim " + headDim + ", blockSize " + blockSize);
        }
        int half = headDim / 2;
        if (ropeCos.length != n * half || ropeSin.length != n * half) {
            throw new IllegalArgumentException("step metadata: rotation rows of " + ropeCos.length + "/" + ropeSin.length
                    + " floats, " + n * half + " needed");
        }
        tokens = tokens.clone();
        positions = positions.clone();
        sequence = sequence.clone();
        blockTables = Arrays.stream(blockTables).map(int[]::clone).toArray(int[][]::new);
        slots = slots.clone();
        ropeCos = ropeCos.clone();
        ropeSin = ropeSin.clone();
    }

    /**
     * The metadata of a pass: slots from the block tables and the rotation rows from {@link RopeTable}, both
     * computed here once.
     *
     * @throws IllegalArgumentException naming the row whose sequence has no block table or whose position its
     *                                  block table cannot hold
     */
    public static StepMetadata of(int[] tokens, int[] positions, int[] sequence, int[][] blockTables, int blockSize,
                                  int heads, int headDim, float ropeTheta, boolean keysBeforeRope) {
        return of(tokens, positions, sequence, blockTables, blockSize, heads, headDim, ropeTheta, RopeScaling.NONE, keysBeforeRope);
    }

    /**
     * The metadata of a pass whose rotation rows follow {@code ropeScaling} ({@link RopeTable#rows(int[], int[], int,
     * float, RopeScaling)}, each row's sequence length taken from this pass).
     *
     * @throws IllegalArgumentException as {@link #of(int[], int[], int[], int[][], int, int, int, float, boolean)}
     */
    public static StepMetadata of(int[] tokens, int[] positions, int[] sequence, int[][] blockTables, int blockSize,
                                  int heads, int headDim, float ropeTheta, RopeScaling ropeScaling, boolean keysBeforeRope) {
        int n = tokens.length;
        if (positions.length != n || sequence.length != n) {
            throw new IllegalArgumentException("step metadata: " + n + " tokens, " + positions.length + " positions, "
                    + sequence.length + " sequence indices");
        }
        int[] slots = new int[n];
        for (int r = 0; r < n; r++) {
            int s = sequence[r], p = positions[r];
            if (s < 0 || s >= blockTables.length) {
                throw new IllegalArgumentException("sequence[" + r + "]: " + s + " has no block table");
            }
            if (p < 0 || p / blockSize >= blockTables[s].length) {
                throw new IllegalArgumentException("positions[" + r + "]: " + p + " does not fit block table " + s + " of "
                        + blockTables[s].length + " blocks of " + blockSize);
            }
            slots[r] = blockTables[s][p / blockSize] * blockSize + p % blockSize;
        }
        float[][] rope = RopeTable.rows(positions, RopeTable.sequenceLengths(positions, sequence), headDim, ropeTheta, ropeScaling);
        return new StepMetadata(tokens, positions, sequence, blockTables, blockSize, slots, heads, headDim, ropeTheta,
                keysBeforeRope, rope[0], rope[1]);
    }

    public int rows() {
        return tokens.length;
    }

    /** The attention description of SPI 1 for these rows. */
    public AttentionBatch attentionBatch() {
        return new AttentionBatch(heads, positions, sequence, blockTables, keysBeforeRope ? ropeTheta : 0f);
    }

    /** Bytes of metadata a backend with its own memory copies once per pass. */
    public long byteSize() {
        long tables = 0;
        for (int[] t : blockTables) tables += t.length;
        return (4L * tokens.length + tables + 2L * ropeCos.length) * 4;
    }

    @Override public int[] tokens() { return tokens.clone(); }
    @Override public int[] positions() { return positions.clone(); }
    @Override public int[] sequence() { return sequence.clone(); }
    @Override public int[] slots() { return slots.clone(); }
    @Override public float[] ropeCos() { return ropeCos.clone(); }
    @Override public float[] ropeSin() { return ropeSin.clone(); }
    @Override public int[][] blockTables() { return Arrays.stream(blockTables).map(int[]::clone).toArray(int[][]::new); }

    /** Token of row r without copying. */
    public int token(int r) { return tokens[r]; }

    /** Position of row r without copying. */
    public int position(int r) { return positions[r]; }

    /** KV slot of row r without copying. */
    public int slot(int r) { return slots[r]; }

    /** cos of row r's angle j without copying. */
    public float cos(int r, int j) { return ropeCos[r * (headDim / 2) + j]; }

    /** sin of row r's angle j without copying. */
    public float sin(int r, int j) { return ropeSin[r * (headDim / 2) + j]; }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepMetadata m && Arrays.equals(tokens, m.tokens) && Arrays.equals(positions, m.positions)
                && Arrays.equals(sequence, m.sequence) && Arrays.deepEquals(blockTables, m.blockTables)
                && blockSize == m.blockSize && heads == m.heads && headDim == m.headDim
                && Float.compare(ropeTheta, m.ropeTheta) == 0 && keysBeforeRope == m.keysBeforeRope;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + Arrays.hashCode(positions);
    }

    @Override
    public String toString() {
        return "StepMetadata[tokens=" + Arrays.toString(tokens) + ", positions=" + Arrays.toString(positions)
                + ", sequence=" + Arrays.toString(sequence) + ", slots=" + Arrays.toString(slots) + "]";
    }
}
