package dev.floe.backend.cpu;

/**
 * The activation rows of one matmul input, arranged once for the kernel that their number selects: {@link Gemm}'s
 * packed row blocks from {@link Gemm#minRows} rows on, else the permuted rows of {@link Matmul}'s tiles and dot products. Eager
 * matmuls, compiled plans and the fused MoE all choose here, so a replayed plan gives the bits eager execution gives.
 *
 * <p>Tasks over one weight split its output rows at multiples of {@link #ALIGN} (whole GEMM panels), so no panel is
 * decoded twice and no two tasks write one output.
 *
 * @param data the arranged activations
 * @param rows activation rows
 * @param gemm whether {@code data} is packed for the GEMM (else permuted for the dot products)
 */
record PackedRows(float[] data, int rows, boolean gemm) {
    /** Output rows per task are a multiple of this. */
    static final int ALIGN = Gemm.NR;

    /**
     * Arranges {@code rows} rows of {@code x} (from index 0) for weights of {@code w}'s width and dtype, in
     * {@code reuse} when it is large enough (the dot products read F32 weights' rows in place); GEMM packing spreads
     * over {@code pool} (null: the calling thread).
     */
    static PackedRows of(WorkerPool pool, float[] x, int rows, CpuWeight w, float[] reuse) {
        if (rows >= Gemm.minRows) return new PackedRows(Gemm.pack(pool, x, 0, rows, w, reuse), rows, true);
        int cols = (int) w.cols();
        int lanes = Matmul.lanes(w.dtype());
        if (lanes == 1) return new PackedRows(x, rows, false);
        float[] xp = reuse != null && reuse.length >= rows * cols ? reuse : new float[rows * cols];
        Matmul.permute(x, rows, cols, lanes, xp);
        return new PackedRows(xp, rows, false);
    }

    /** Floats that {@link #of} arranges {@code rows} rows into for weights of {@code w}'s width (an array to reuse). */
    static int floats(int rows, CpuWeight w) {
        return (rows >= Gemm.minRows ? Gemm.paddedRows(rows) : rows) * (int) w.cols();
    }

    /** Output rows {@code [o0, o1)} of {@code x W^T} into {@code out[r * w.rows() + o]}; {@code o0} a multiple of {@link #ALIGN}. */
    void multiply(CpuWeight w, int o0, int o1, float[] out) {
        if (gemm) Gemm.rows(w, data, rows, o0, o1, out, 0);
        else Matmul.rows(w, data, rows, o0, o1, out);
    }

    /** {@code n} output rows cut into at most {@code slices} runs of whole multiples of {@link #ALIGN}: their length. */
    static int sliceLength(int n, int slices) {
        int per = (n + Math.max(1, slices) - 1) / Math.max(1, slices);
        return (per + ALIGN - 1) / ALIGN * ALIGN;
    }
}
