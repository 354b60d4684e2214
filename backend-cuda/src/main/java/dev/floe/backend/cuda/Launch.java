package dev.floe.backend.cuda;

/**
 * A launch configuration: grid and block dimensions. The factories encode each kernel family's mapping of work to
 * threads (see the comments in {@code src/main/cuda}); keeping them here makes them testable without a device.
 */
record Launch(int gridX, int gridY, int gridZ, int block) {
    static final int THREADS = 256;
    /** Warps per block and activation rows per block column of the matvec-style kernels (MV_WARPS, MV_ROWS). */
    static final int MV_WARPS = 4;
    static final int MV_ROWS = 8;
    /** Output tile of the gemm fallback (GT). */
    static final int GEMM_TILE = 64;
    static final int ATT_WARPS = 4;
    static final int ATT_MAX_DIM = 256;
    static final int ROUTER_MAX_K = 32;
    /** Largest row count served by the matvec kernels; more rows go to a GEMM. */
    static final int MATVEC_MAX_ROWS = 64;

    Launch {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || block < 1) throw new IllegalArgumentException("empty launch " + this);
        if (gridY > 65535 || gridZ > 65535) throw new IllegalArgumentException("grid too large: " + this);
    }

    /** One thread per element. */
    static Launch elements(long n) {
        long blocks = Math.ceilDiv(n, THREADS);
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " elements exceed one launch");
        return new Launch((int) blocks, 1, 1, THREADS);
    }

    /** A grid column per table row (up to 2^31 - 1), 256 columns per block along y. */
    static Launch rowsByColumns(int rows, int cols) {
        return new Launch(rows, Math.ceilDiv(cols, THREADS), 1, THREADS);
    }

    /** Warp per output row, a block column per MV_ROWS activation rows. */
    static Launch matvec(int outRows, int rows) {
        return new Launch(Math.ceilDiv(outRows, MV_WARPS), Math.ceilDiv(rows, MV_ROWS), 1, MV_WARPS * 32);
    }

    static Launch gemm(int outRows, int rows) {
        return new Launch(Math.ceilDiv(outRows, GEMM_TILE), Math.ceilDiv(rows, GEMM_TILE), 1, 256);
    }

    /** A block per (query row, head, split of the key range). */
    static Launch attention(int rows, int heads, int splits) {
        return new Launch(rows, heads, splits, ATT_WARPS * 32);
    }

    /** A block of 256 threads per row. */
    static Launch perRow(int rows) {
        return new Launch(rows, 1, 1, THREADS);
    }

    /** A warp per token, four per block. */
    static Launch router(int rows) {
        return new Launch(Math.ceilDiv(rows, 4), 1, 1, 128);
    }

    /** Most (row, choice) pairs of one fused-MoE launch: the pairs run along grid y. */
    static final int MOE_MAX_PAIRS = 65535;

    /** Warp per output row of a chosen expert, a block column per (row, choice) pair (moe_up, moe_down). */
    static Launch moeExperts(int outRows, int pairs) {
        return new Launch(Math.ceilDiv(outRows, MV_WARPS), pairs, 1, MV_WARPS * 32);
    }
}
