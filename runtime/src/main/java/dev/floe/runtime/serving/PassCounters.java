package dev.floe.runtime.serving;

/**
 * What the engine's forward passes carried: how many passes, their rows (prompt rows and decode rows apart), the
 * sequences in them and the time they took, overall and by rows per pass. The counts do not depend on how loaded the
 * machine is, so they compare schedulers where wall-clock rates cannot: a scheduler that keeps its batch fuller runs
 * fewer passes with more decode rows each. Thread-safe.
 */
public final class PassCounters {
    /** Passes of this many rows or more share the last slot of {@link Snapshot#passesByRows()}. */
    public static final int ROWS_TRACKED = 512;

    private final long[] passesByRows = new long[ROWS_TRACKED + 1];
    private final long[] nanosByRows = new long[ROWS_TRACKED + 1];
    private long passes;
    private long rows;
    private long decodeRows;
    private long sequences;
    private long nanos;

    /**
     * Counts one pass.
     *
     * @param rows       tokens fed
     * @param decodeRows rows that feed a sequence's one newly generated token (the others are prompt rows, including
     *                   a preempted sequence's recomputation)
     * @param sequences  sequences in the pass
     * @param nanos      wall time of the forward pass
     */
    synchronized void record(int rows, int decodeRows, int sequences, long nanos) {
        if (rows < 1 || decodeRows < 0 || decodeRows > rows) {
            throw new IllegalArgumentException("a pass of " + rows + " rows cannot have " + decodeRows + " decode rows");
        }
        int slot = Math.min(rows, ROWS_TRACKED);
        passesByRows[slot]++;
        nanosByRows[slot] += nanos;
        passes++;
        this.rows += rows;
        this.decodeRows += decodeRows;
        this.sequences += sequences;
        this.nanos += nanos;
    }

    /** A consistent copy. */
    public synchronized Snapshot snapshot() {
        return new Snapshot(passes, rows, decodeRows, sequences, nanos, passesByRows.clone(), nanosByRows.clone());
    }

    /**
     * The counters at one moment.
     *
     * @param passesByRows passes by their rows: index r counts the passes of r rows ({@link #ROWS_TRACKED}: that many
     *                     or more; index 0 is unused)
     * @param nanosByRows  the time those passes took, indexed as {@code passesByRows}
     */
    public record Snapshot(long passes, long rows, long decodeRows, long sequences, long nanos, long[] passesByRows,
                           long[] nanosByRows) {
        public Snapshot {
            passesByRows = passesByRows.clone();
            nanosByRows = nanosByRows.clone();
        }

        @Override
        public long[] passesByRows() {
            return passesByRows.clone();
        }

        @Override
        public long[] nanosByRows() {
            return nanosByRows.clone();
        }

        public long promptRows() {
            return rows - decodeRows;
        }

        public double rowsPerPass() {
            return passes == 0 ? 0 : (double) rows / passes;
        }

        public double decodeRowsPerPass() {
            return passes == 0 ? 0 : (double) decodeRows / passes;
        }

        public double promptRowsPerPass() {
            return passes == 0 ? 0 : (double) promptRows() / passes;
        }

        public double millisPerPass() {
            return passes == 0 ? 0 : nanos / 1e6 / passes;
        }

        /**
         * Distinct experts a pass touches in one MoE layer, averaged over the passes, when each row picks {@code topK}
         * of {@code experts} uniformly (as a random-weight model's router does, about): a row leaves a given expert
         * out with probability 1 - topK/experts, so r rows touch experts x (1 - (1 - topK/experts)^r). In a dense
         * model a pass reads the same weights for 1 row or 16; in an MoE the expert weights read grow with the rows.
         */
        public double expectedExpertsPerPass(int experts, int topK) {
            if (passes == 0) return 0;
            double miss = 1 - (double) topK / experts, sum = 0;
            for (int r = 1; r < passesByRows.length; r++) sum += passesByRows[r] * experts * (1 - Math.pow(miss, r));
            return sum / passes;
        }
    }
}
