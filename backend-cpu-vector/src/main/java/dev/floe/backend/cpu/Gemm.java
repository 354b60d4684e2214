package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@code y = x W^T} for many activation rows (prompts, batched decode, the rows routed to one expert): the
 * register-blocked GEMM of BLIS and oneDNN, in place of {@link Matmul}'s dot products, which reload the activations
 * for every weight row and so run at the rate of the loads rather than the multiply-adds.
 *
 * <p>Both operands are packed first, in the order the micro-kernel ({@link #tile}) reads them:
 * <ul>
 * <li>the activations once per call ({@link #packActivations}): blocks of {@link #MR} rows, the {@code MR} values
 *     of each column side by side, the columns in {@link Matmul#permuted} order (the order the weight decoders
 *     produce without shuffling lanes);</li>
 * <li>the weights once per panel ({@link #decodePanel}): {@link #NR} weight rows by {@link #KC} columns, decoded from
 *     their stored format (BF16, F16, FP8 E4M3/E5M2 with {@link Matmul}'s bit moves, F32) and transposed (each
 *     decoded vector scattered down a column) so that the {@code NR} weights of one column are one run of floats.
 *     The panel (32 KiB) stays in L1 while every block of activation rows passes over it. (A 64-byte aligned panel
 *     off the heap with scalar transposing stores: 25 against 31 G multiply-adds/s per core at 32 rows, 44 against
 *     53 at 64, the same at 256.)</li>
 * </ul>
 * The micro-kernel keeps an {@code MR x NR} tile of the output in {@code MR x NR / VL} vector registers; per column it
 * loads {@code NR / VL} weight vectors and broadcasts {@code MR} activations, for {@code MR x NR / VL} vector
 * multiply-adds.
 *
 * <p>Deterministic: output {@code (r, o)} is one FMA chain over the columns in their fixed (permuted) order, carried
 * from one column block to the next through memory, then multiplied by the row's scale. Neither the number of
 * threads, nor the other rows of the batch, nor the split into tasks changes it, so a row gives the same bits
 * whatever it is batched with. Codes the bit moves cannot decode (inf, NaN; {@link CpuWeight#specialRows}) are
 * decoded exactly in scalar code for their rows.
 */
final class Gemm {
    private static final int VL = Matmul.VL;
    /** Activation rows per register tile. */
    static final int MR = 4;
    /** Weight rows per register tile and per panel: four vectors. */
    static final int NR = 4 * VL;
    /** Columns per panel: a multiple of every format's block ({@code 4 VL}), so that no block straddles two panels. */
    static final int KC = Math.max(4 * VL, Integer.getInteger("floe.cpu.gemm-kc", 128) / (4 * VL) * (4 * VL));
    /**
     * From this many activation rows on, matmuls use this GEMM; below, {@link Matmul}'s 4 x 4 tiles, which need no
     * transposed panel and ran faster up to 64 rows in {@code GemmBenchmark} (one core, BF16: 65-74 against 44-64 G
     * multiply-adds/s at 32-64 rows; FP8 E4M3: 50-61 against 31-51), the GEMM from 128 (a switch for benchmarks).
     */
    static int minRows = Integer.getInteger("floe.cpu.gemm-rows", 96);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Scatter offsets down one column of a panel: lane i to row i of the panel. */
    private static final int[] DOWN = java.util.stream.IntStream.range(0, VL).map(i -> i * NR).toArray();

    /** Per thread: the weight panel and the output sums of a panel. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);

    private static final class Scratch {
        final float[] panel = new float[KC * NR];
        float[] out = new float[0];
    }

    private Gemm() {
    }

    /**
     * {@code out[outOff + r * w.rows() + o] = sum_i x[xOff + r * w.cols() + i] * W[o][i] * scale(o)} for {@code rows}
     * rows, spread over {@code pool} (the calling thread alone when null). The weight must have been
     * {@linkplain CpuWeight#scan scanned}. Usable by any operation holding gathered rows, such as grouped experts.
     */
    static void multiply(WorkerPool pool, CpuWeight w, float[] x, int xOff, int rows, float[] out, int outOff) {
        if (rows <= 0 || w.rows() == 0) return;
        float[] packed = pack(x, xOff, rows, w, PACKED.get());
        PACKED.set(packed);
        int outRows = (int) w.rows();
        int panels = (outRows + NR - 1) / NR;
        if (pool == null || panels == 1) {
            rows(w, packed, rows, 0, outRows, out, outOff);
        } else {
            pool.run(panels, p -> rows(w, packed, rows, p * NR, Math.min(outRows, (p + 1) * NR), out, outOff));
        }
    }

    /**
     * {@code rows} rows of activations from {@code x[xOff..]} packed for {@link #rows} against weights of
     * {@code w}'s width and dtype, into {@code into} when it is large enough, else into a new array (returned).
     */
    static float[] pack(float[] x, int xOff, int rows, CpuWeight w, float[] into) {
        int cols = (int) w.cols();
        int padded = (rows + MR - 1) / MR * MR;
        float[] xp = into != null && into.length >= padded * cols ? into : new float[padded * cols];
        packActivations(x, xOff, rows, cols, Matmul.lanes(w.dtype()), xp);
        return xp;
    }

    /**
     * Weight rows {@code [o0, o1)} of {@code y = x W^T} for the {@code rows} activation rows that {@link #pack} left in
     * {@code xp}, into {@code out[outOff + r * w.rows() + o]}. {@code o0} is a multiple of {@link #NR}, so that the
     * tasks of one matmul split it into whole panels and no two of them write the same output.
     */
    static void rows(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out, int outOff) {
        if (o0 % NR != 0) throw new IllegalArgumentException("o0: " + o0 + " is not a multiple of " + NR);
        for (int o = o0; o < o1; o += NR) panel(w, xp, rows, o, Math.min(o1, o + NR), out, outOff);
    }

    /**
     * Packs {@code rows} rows of {@code cols} activations into blocks of {@link #MR} rows: column {@code p} (in
     * {@link Matmul#permuted} order) of row {@code q} of block {@code b} at {@code (b * cols + p) * MR + q}; the rows
     * that pad the last block are zero.
     */
    static void packActivations(float[] x, int xOff, int rows, int cols, int lanes, float[] xp) {
        int padded = (rows + MR - 1) / MR * MR;
        int block = lanes * VL;
        int full = cols / block * block;
        for (int r = 0; r < padded; r++) {
            int base = (r / MR) * cols * MR + r % MR;
            if (r >= rows) {
                for (int p = 0; p < cols; p++) xp[base + p * MR] = 0f;
                continue;
            }
            int src = xOff + r * cols;
            for (int b = 0; b < full; b += block) {
                for (int k = 0; k < lanes; k++) {
                    int d = base + (b + k * VL) * MR;
                    int s = src + b + k;
                    for (int i = 0; i < VL; i++) xp[d + i * MR] = x[s + i * lanes];
                }
            }
            for (int e = full; e < cols; e++) xp[base + e * MR] = x[src + e];
        }
    }

    /** Weight rows {@code [o0, o1)}, at most {@link #NR}, against all activation rows, {@link #KC} columns at a time. */
    private static void panel(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out, int outOff) {
        int outRows = (int) w.rows();
        int cols = (int) w.cols();
        int blocks = (rows + MR - 1) / MR;
        Scratch s = SCRATCH.get();
        if (s.out.length < blocks * MR * NR) s.out = new float[blocks * MR * NR];
        float[] acc = s.out;
        for (int p0 = 0; p0 < cols; p0 += KC) {
            int n = Math.min(KC, cols - p0);
            decodePanel(w, o0, o1, p0, n, s.panel);
            if (w.block() != null) scaleBlocks(w, o0, o1, p0, n, s.panel);
            for (int b = 0; b < blocks; b++) tile(xp, (b * cols + p0) * MR, s.panel, n, acc, b * MR * NR, p0 == 0);
        }
        for (int r = 0; r < rows; r++) {
            int at = outOff + r * outRows;
            for (int o = o0; o < o1; o++) out[at + o] = acc[r * NR + o - o0] * w.rowScale(o);
        }
    }

    /** Multiplies a decoded panel of a block-scaled weight by each element's block scale. */
    private static void scaleBlocks(CpuWeight w, int o0, int o1, int p0, int n, float[] panel) {
        int[] colBlock = w.permutedColumnBlocks();
        int blockRows = w.block().rows();
        for (int j = 0; j < o1 - o0; j++) {
            int rb = (o0 + j) / blockRows;
            for (int p = 0; p < n; p++) panel[p * NR + j] *= w.blockScale(rb, colBlock[p0 + p]);
        }
    }

    /**
     * Decodes weight rows {@code [o0, o1)}, columns {@code [p0, p0 + n)} in permuted order, into {@code panel}: column
     * {@code p} of row {@code j} at float {@code (p - p0) * NR + j}; rows from {@code o1} up to {@code o0 + NR} are
     * zero. Each decoded vector is scattered down its column ({@link #DOWN}).
     */
    static void decodePanel(CpuWeight w, int o0, int o1, int p0, int n, float[] panel) {
        MemorySegment seg = w.data();
        DType dtype = w.dtype();
        int cols = (int) w.cols();
        int lanes = Matmul.lanes(dtype);
        int block = lanes * VL;
        int full = cols / block * block;
        long[] special = w.specialRows();
        int e1 = Math.min(p0 + n, full);
        for (int j = 0; j < NR; j++) {
            int o = o0 + j;
            if (o >= o1) {
                for (int p = 0; p < n; p++) panel[p * NR + j] = 0f;
                continue;
            }
            long off = (long) o * cols * dtype.bytes();
            for (int e = p0; e < e1; e += block) {
                long at = off + (long) e * dtype.bytes();
                int d = (e - p0) * NR + j;
                switch (dtype) {
                    case F32 -> FloatVector.fromMemorySegment(Matmul.FS, seg, at, LE).intoArray(panel, d, DOWN, 0);
                    case BF16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.bf16Lo(v).intoArray(panel, d, DOWN, 0);
                        Matmul.bf16Hi(v).intoArray(panel, d + VL * NR, DOWN, 0);
                    }
                    case F16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.f16Lo(v).mul(Matmul.F16_BIAS).intoArray(panel, d, DOWN, 0);
                        Matmul.f16Hi(v).mul(Matmul.F16_BIAS).intoArray(panel, d + VL * NR, DOWN, 0);
                    }
                    case F8_E4M3 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 4, 0x87F00000,
                            Matmul.E4M3_BIAS, panel, d);
                    case F8_E5M2 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 3, 0x8FE00000,
                            Matmul.E5M2_BIAS, panel, d);
                    default -> throw new IllegalArgumentException("dtype " + dtype);
                }
            }
            // the tail past the last full block is in natural order
            for (int e = Math.max(p0, full); e < p0 + n; e++) panel[(e - p0) * NR + j] = FloatFormats.read(w.tensor(), (long) o * cols + e);
            if (special != null && Matmul.isSet(special, o)) {
                for (int e = p0; e < p0 + n; e++) {
                    panel[(Matmul.permuted(e, cols, lanes) - p0) * NR + j] = FloatFormats.read(w.tensor(), (long) o * cols + e);
                }
            }
        }
    }

    private static void fp8(IntVector v, int shift, int mask, float bias, float[] panel, int d) {
        IntVector odd = Matmul.fp8Odd(v, shift), even = Matmul.fp8Even(v, shift);
        Matmul.fp8Low(even, mask).mul(bias).intoArray(panel, d, DOWN, 0);
        Matmul.fp8Low(odd, mask).mul(bias).intoArray(panel, d + VL * NR, DOWN, 0);
        Matmul.fp8High(even, mask).mul(bias).intoArray(panel, d + 2 * VL * NR, DOWN, 0);
        Matmul.fp8High(odd, mask).mul(bias).intoArray(panel, d + 3 * VL * NR, DOWN, 0);
    }

    /**
     * The register tile: for the {@code MR} activation rows packed at {@code xp[xo..]} and the {@code NR} weight rows
     * of {@code panel}, {@code n} columns, continues (or, when {@code first}, starts) the {@code MR x NR} sums held at
     * {@code acc[ao..]}, row by row.
     */
    static void tile(float[] xp, int xo, float[] panel, int n, float[] acc, int ao, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c02 = FloatVector.fromArray(fs, acc, ao + 2 * VL);
            c03 = FloatVector.fromArray(fs, acc, ao + 3 * VL);
            c10 = FloatVector.fromArray(fs, acc, ao + NR);
            c11 = FloatVector.fromArray(fs, acc, ao + NR + VL);
            c12 = FloatVector.fromArray(fs, acc, ao + NR + 2 * VL);
            c13 = FloatVector.fromArray(fs, acc, ao + NR + 3 * VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * NR);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * NR + VL);
            c22 = FloatVector.fromArray(fs, acc, ao + 2 * NR + 2 * VL);
            c23 = FloatVector.fromArray(fs, acc, ao + 2 * NR + 3 * VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * NR);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * NR + VL);
            c32 = FloatVector.fromArray(fs, acc, ao + 3 * NR + 2 * VL);
            c33 = FloatVector.fromArray(fs, acc, ao + 3 * NR + 3 * VL);
        }
        for (int p = 0; p < n; p++) {
            int wi = p * NR;
            int xi = xo + p * MR;
            FloatVector w0 = FloatVector.fromArray(fs, panel, wi);
            FloatVector w1 = FloatVector.fromArray(fs, panel, wi + VL);
            FloatVector w2 = FloatVector.fromArray(fs, panel, wi + 2 * VL);
            FloatVector w3 = FloatVector.fromArray(fs, panel, wi + 3 * VL);
            FloatVector x = FloatVector.broadcast(fs, xp[xi]);
            c00 = w0.fma(x, c00);
            c01 = w1.fma(x, c01);
            c02 = w2.fma(x, c02);
            c03 = w3.fma(x, c03);
            x = FloatVector.broadcast(fs, xp[xi + 1]);
            c10 = w0.fma(x, c10);
            c11 = w1.fma(x, c11);
            c12 = w2.fma(x, c12);
            c13 = w3.fma(x, c13);
            x = FloatVector.broadcast(fs, xp[xi + 2]);
            c20 = w0.fma(x, c20);
            c21 = w1.fma(x, c21);
            c22 = w2.fma(x, c22);
            c23 = w3.fma(x, c23);
            x = FloatVector.broadcast(fs, xp[xi + 3]);
            c30 = w0.fma(x, c30);
            c31 = w1.fma(x, c31);
            c32 = w2.fma(x, c32);
            c33 = w3.fma(x, c33);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c02.intoArray(acc, ao + 2 * VL);
        c03.intoArray(acc, ao + 3 * VL);
        c10.intoArray(acc, ao + NR);
        c11.intoArray(acc, ao + NR + VL);
        c12.intoArray(acc, ao + NR + 2 * VL);
        c13.intoArray(acc, ao + NR + 3 * VL);
        c20.intoArray(acc, ao + 2 * NR);
        c21.intoArray(acc, ao + 2 * NR + VL);
        c22.intoArray(acc, ao + 2 * NR + 2 * VL);
        c23.intoArray(acc, ao + 2 * NR + 3 * VL);
        c30.intoArray(acc, ao + 3 * NR);
        c31.intoArray(acc, ao + 3 * NR + VL);
        c32.intoArray(acc, ao + 3 * NR + 2 * VL);
        c33.intoArray(acc, ao + 3 * NR + 3 * VL);
    }
}
