package dev.floe.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The package-private kernels and switches of this backend, opened to the JMH benchmarks in
 * {@code dev.floe.backend.cpu.jmh} (test code only: JMH generates its classes beside the benchmarks, so they live in
 * a package of their own).
 */
public final class KernelAccess {
    public static final long PEAK_MULTIPLY_ADDS_PER_CALL = (long) MultiplyAddPeak.CHAINS * MultiplyAddPeak.ITERATIONS * Matmul.VL;

    private KernelAccess() {
    }

    public static float peakChains(float m) {
        return MultiplyAddPeak.chains(m);
    }

    /** Matmuls of at least this many rows go through the GEMM; {@code Integer.MAX_VALUE}: never. */
    public static void gemmMinRows(int rows) {
        Gemm.minRows = rows;
    }

    public static int gemmMinRows() {
        return Gemm.minRows;
    }

    /** Whether the batch-1 matvec stages weight blocks through the cache first, and the block size. */
    public static void staging(boolean staged, long blockBytes) {
        Matmul.staged = staged;
        Matmul.blockBytes = blockBytes;
    }

    public static int touch(MemorySegment w, long off, long bytes) {
        return Matmul.touch(w, off, bytes);
    }

    public static float bf16Dot(MemorySegment w, long off, int cols, float[] x, int xo) {
        return Matmul.bf16Dot(w, off, cols, x, xo);
    }

    /** The E4M3 dot product of the {@code cols} codes at {@code off} (a multiple of the block: no scalar tail). */
    public static float e4m3Dot(MemorySegment w, long off, int cols, float[] x, int xo) {
        if (cols % (4 * Matmul.VL) != 0) throw new IllegalArgumentException("cols: " + cols + " leaves a scalar tail");
        return Matmul.fp8Dot(null, w, (int) (off / cols), cols, x, xo, 4, 0x87F00000, Matmul.E4M3_BIAS);
    }

    public static void bf16Dot4Rows(MemorySegment w, long off, int cols, float[] x, int xo, float[] out, int oi) {
        Matmul.bf16Dot4Rows(w, off, cols, x, xo, out, oi);
    }

    /** Activation rows of a full GEMM block, weight rows of a panel and its columns (the micro-kernel's shape). */
    public static final int GEMM_XR = Gemm.XR, GEMM_NR = Gemm.NR, GEMM_KC = Gemm.KC;

    /**
     * One column slice of a GEMM panel against one full activation block at {@code xp[xo..]}, as {@code Gemm.panel}
     * runs it: the micro-kernels over {@code weightRows} decoded rows ({@code panel}, {@code GEMM_KC} floats each).
     */
    public static void gemmSlice(float[] xp, int xo, float[] panel, int weightRows, float[] acc, boolean first) {
        Gemm.slice(xp, xo, Gemm.XR, panel, weightRows, Gemm.KC, acc, 0, Gemm.XR, first);
    }

    /**
     * Attention of {@code count} query heads over KV head 0 of a cache of 16-position blocks in order ({@code keys}
     * transposed as {@code PagedKvCache} holds them, {@code rowWidth} floats per position), the heads together or
     * one at a time.
     */
    public static void attention(boolean together, float[] q, int count, float[] keys, float[] values, int rowWidth, int n,
                                 int d, float[] out) {
        Attention.Row row = new Attention.Row(d, 16, rowWidth, n, count);
        int[] table = new int[(n + 15) / 16];
        for (int b = 0; b < table.length; b++) table[b] = b;
        row.row(table, n);
        float scale = (float) (1 / Math.sqrt(d));
        if (together) {
            Attention.heads(row, q, 0, count, keys, values, 0, scale, out, 0, null);
        } else {
            for (int h = 0; h < count; h++) Attention.heads(row, q, h * d, 1, keys, values, 0, scale, out, h * d, null);
        }
    }
}
