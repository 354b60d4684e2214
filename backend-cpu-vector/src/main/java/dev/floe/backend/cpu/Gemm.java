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
 * <p>Both operands are arranged first, in the order the micro-kernels read them:
 * <ul>
 * <li>the activations once per call ({@link #packActivations}): blocks of {@link #XR} rows (the last one as few
 *     vectors wide as hold its rows, {@link #blockWidth}), the rows of each column side by side, the columns in
 *     {@link Matmul#permuted} order (the order the weight decoders produce without shuffling lanes);</li>
 * <li>the weights once per panel ({@link #decodePanel}): {@link #NR} weight rows by {@link #KC} columns decoded from
 *     their stored format (BF16, F16, FP8 E4M3/E5M2 with {@link Matmul}'s bit moves, F32) into rows of floats, with
 *     plain vector stores. (An earlier kernel held the weights in vectors and so scattered each decoded vector down a
 *     column of a transposed panel; the scatters took 12% of a 256-token prompt pass.)</li>
 * </ul>
 * A micro-kernel keeps a tile of the output in vector registers, one vector of {@code VL} activation rows for one
 * weight row each: per column it loads the tile's activation vectors and broadcasts one decoded weight per weight
 * row. With 32 vector registers (AVX-512) a tile is up to 24 vectors ({@link #tile6x4}: 6 weight rows by 4 vectors
 * of rows, {@link #tile4x4} for a panel's last rows, {@link #tile8x3}, {@link #tile12x2}, {@link #tile8x2} and
 * {@link #tile16x1} for narrower last blocks): the larger the tile, the fewer loads and broadcasts and the less loop
 * overhead per FMA (one Zen 5 core, cache-resident, against JMH's 111 G/s peak: 6 x 4 at 95%, 4 x 4 93%, 8 x 3 94%,
 * 12 x 2 91%, 8 x 2 87%, 16 x 1 69%; a 48-row block, 4 x 4 before, ran a quarter padding). With 16 (AVX2) a tile
 * is 12 ({@link #tile6x2}, {@link #tile12x1}), as the six-by-sixteen kernels of BLIS for AVX2, which a 16-vector tile
 * would spill.
 *
 * <p>Deterministic: output {@code (r, o)} is one FMA chain over the columns in their fixed (permuted) order, carried
 * from one column block to the next through memory, then multiplied by the row's scale. Neither the number of
 * threads, nor the other rows of the batch, nor the block or micro-kernel a row lands in, nor the split into tasks
 * changes it, so a row gives the same bits whatever it is batched with. Codes the bit moves cannot decode (inf, NaN;
 * {@link CpuWeight#specialRows}) are decoded exactly in scalar code for their rows.
 */
final class Gemm {
    private static final int VL = Matmul.VL;
    private static final boolean WIDE = Matmul.WIDE;
    /** Activation rows per full block: four vectors (AVX-512), else two. */
    static final int XR = (WIDE ? 4 : 2) * VL;
    /** Weight rows per micro-kernel of the narrowest block: a multiple of every kernel's weight rows. */
    private static final int GROUP = WIDE ? 16 : 12;
    /** Weight rows per panel and per task boundary: a multiple of {@link #GROUP}. */
    static final int NR = 4 * GROUP;
    /**
     * Columns per panel: a multiple of every format's block ({@code 4 VL}), so that no block straddles two panels.
     * With AVX-512, 2048, a 2048-wide weight in one slice (a 512 KiB decoded panel): with the 6 x 4 tiles the fewer,
     * longer slices measured faster on Zen 5 (JMH, two threads, 16384 x 2048 from memory, 32 / 256 rows, G
     * multiply-adds/s: BF16 126-136 / 179-182 against 119-125 / 147-166 with 128 columns, FP8 137-143 / 176-182
     * against 114-128 / 170-172; 512 in between). With AVX2, 128, as measured before the wider tiles.
     */
    static final int KC = Math.max(4 * VL, Integer.getInteger("floe.cpu.gemm-kc", WIDE ? 2048 : 128) / (4 * VL) * (4 * VL));
    /**
     * From this many activation rows on, matmuls use this GEMM; below, {@link Matmul}'s 4 x 4 tiles, which need no
     * decoded panel (a switch for benchmarks). With AVX-512 the GEMM wins from two vectors of rows (one Zen 5 core,
     * 1408 x 2048, JMH: 32 rows BF16 66 against 52 G multiply-adds/s, FP8 70 against 57; 48 rows 78 / 69 against
     * 65 / 54; at 16 rows the tiles, 57 / 54 against 54 / 48). With AVX2 the two were level up to 64 rows.
     */
    static int minRows = Integer.getInteger("floe.cpu.gemm-rows", WIDE ? 2 * VL : 96);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Side of the squares in which a panel's sums are transposed into the output rows. */
    private static final int OUT_BLOCK = 16;

    /** Per thread: the weight panel, its row scales and the output sums of a panel. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);

    private static final class Scratch {
        final float[] panel = new float[NR * KC];
        final float[] scales = new float[NR];
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
        float[] packed = pack(pool, x, xOff, rows, w, PACKED.get());
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
     * {@code w}'s width and dtype, into {@code into} when it is large enough, else into a new array (returned); the
     * row blocks spread over {@code pool} when there are several (null: the calling thread alone).
     */
    static float[] pack(WorkerPool pool, float[] x, int xOff, int rows, CpuWeight w, float[] into) {
        int cols = (int) w.cols();
        int padded = paddedRows(rows);
        float[] xp = into != null && into.length >= padded * cols ? into : new float[padded * cols];
        int lanes = Matmul.lanes(w.dtype());
        int blocks = (rows + XR - 1) / XR;
        if (pool == null || blocks == 1) {
            packActivations(x, xOff, rows, cols, lanes, xp);
        } else {
            pool.run(blocks, b -> packBlock(x, xOff, rows, cols, lanes, xp, b * XR));
        }
        return xp;
    }

    /** The width of the row block starting at row {@code r0}: the fewest vectors that hold the rest, at most {@link #XR}. */
    static int blockWidth(int rows, int r0) {
        return Math.min(XR, (rows - r0 + VL - 1) / VL * VL);
    }

    /** {@code n} weight rows of a panel rounded up to whole micro-kernels of the narrowest block (decoded as zeros). */
    private static int paddedWeightRows(int n) {
        return (n + GROUP - 1) / GROUP * GROUP;
    }

    /** Rows with the last block's padding. */
    static int paddedRows(int rows) {
        int full = rows / XR * XR;
        return full == rows ? rows : full + blockWidth(rows, full);
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
     * Packs {@code rows} rows of {@code cols} activations into row blocks ({@link #blockWidth}): in the block of width
     * {@code bw} starting at row {@code r0}, column {@code p} (in {@link Matmul#permuted} order) of row {@code r} at
     * {@code r0 * cols + p * bw + r - r0}; the rows that pad the last block are zero.
     */
    static void packActivations(float[] x, int xOff, int rows, int cols, int lanes, float[] xp) {
        for (int r0 = 0; r0 < rows; r0 += XR) packBlock(x, xOff, rows, cols, lanes, xp, r0);
    }

    /** The block of {@link #packActivations} that starts at row {@code r0}. */
    private static void packBlock(float[] x, int xOff, int rows, int cols, int lanes, float[] xp, int r0) {
        int block = lanes * VL;
        int full = cols / block * block;
        int bw = blockWidth(rows, r0);
        for (int q = 0; q < bw; q++) {
            int base = r0 * cols + q;
            if (r0 + q >= rows) {
                for (int p = 0; p < cols; p++) xp[base + p * bw] = 0f;
                continue;
            }
            int src = xOff + (r0 + q) * cols;
            for (int b = 0; b < full; b += block) {
                for (int k = 0; k < lanes; k++) {
                    int d = base + (b + k * VL) * bw;
                    int s = src + b + k;
                    for (int i = 0; i < VL; i++) xp[d + i * bw] = x[s + i * lanes];
                }
            }
            for (int e = full; e < cols; e++) xp[base + e * bw] = x[src + e];
        }
    }

    /** Weight rows {@code [o0, o1)}, at most {@link #NR}, against all activation rows, {@link #KC} columns at a time. */
    private static void panel(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out, int outOff) {
        int outRows = (int) w.rows();
        int cols = (int) w.cols();
        int padded = paddedRows(rows);
        Scratch s = SCRATCH.get();
        if (s.out.length < NR * padded) s.out = new float[NR * padded];
        float[] acc = s.out;
        float[] panel = s.panel;
        int groups = paddedWeightRows(o1 - o0);
        // the panel's rows are one contiguous range: read it in order first, which the prefetchers follow, rather
        // than KC columns of each of NR rows at a time, which they do not (22% of a 64-row pass). Unlike the
        // staging of Matmul.stages this pays for BF16 too: it orders the reads rather than overlapping them.
        long rowBytes = (long) cols * w.dtype().bytes();
        if (Matmul.staged && Matmul.touch(w.data(), o0 * rowBytes, (o1 - o0) * rowBytes) == 42) Matmul.touched = 42;
        for (int p0 = 0; p0 < cols; p0 += KC) {
            int n = Math.min(KC, cols - p0);
            decodePanel(w, o0, o1, p0, n, panel);
            if (w.block() != null) scaleBlocks(w, o0, o1, p0, n, panel);
            boolean first = p0 == 0;
            for (int r0 = 0; r0 < rows; r0 += XR) {
                int bw = blockWidth(rows, r0);
                slice(xp, r0 * cols + p0 * bw, bw, panel, groups, n, acc, r0, padded, first);
            }
        }
        float[] scales = s.scales;
        for (int o = o0; o < o1; o++) scales[o - o0] = w.rowScale(o);
        // transposed in squares of OUT_BLOCK: a weight row's sums go down a column of the output, a line every
        // outRows floats, all in one L1 set when outRows is a multiple of 1024 (17% of a 256-row pass written so)
        for (int rb = 0; rb < rows; rb += OUT_BLOCK) {
            int re = Math.min(rows, rb + OUT_BLOCK);
            for (int ob = o0; ob < o1; ob += OUT_BLOCK) {
                int oe = Math.min(o1, ob + OUT_BLOCK);
                for (int r = rb; r < re; r++) {
                    int y = outOff + r * outRows;
                    for (int o = ob; o < oe; o++) out[y + o] = acc[(o - o0) * padded + r] * scales[o - o0];
                }
            }
        }
    }

    /**
     * One column slice of a panel ({@code n} columns of {@code groups} decoded weight rows) against the activation
     * block of width {@code bw} at {@code xp[xo..]}, continuing the sums at {@code acc[ao + j * stride + r]}: the
     * micro-kernels that fit the block's width.
     */
    static void slice(float[] xp, int xo, int bw, float[] panel, int groups, int n, float[] acc, int ao, int stride, boolean first) {
        if (bw == 4 * VL) {
            // 6 x 4 tiles, as many as go in pairs, so that the rest is a multiple of 4 rows for the 4 x 4
            int six = groups / 12 * 12, j = 0;
            for (; j < six; j += 6, ao += 6 * stride) tile6x4(xp, xo, panel, j * KC, n, acc, ao, stride, first);
            for (; j < groups; j += 4, ao += 4 * stride) tile4x4(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        } else if (bw == 3 * VL) {
            for (int j = 0; j < groups; j += 8, ao += 8 * stride) tile8x3(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        } else if (bw == 2 * VL && WIDE) {
            // 12 x 2 tiles in pairs, so that the rest is a multiple of 8 rows for the 8 x 2
            int twelve = groups / 24 * 24, j = 0;
            for (; j < twelve; j += 12, ao += 12 * stride) tile12x2(xp, xo, panel, j * KC, n, acc, ao, stride, first);
            for (; j < groups; j += 8, ao += 8 * stride) tile8x2(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        } else if (bw == 2 * VL) {
            for (int j = 0; j < groups; j += 6, ao += 6 * stride) tile6x2(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        } else if (WIDE) {
            for (int j = 0; j < groups; j += 16, ao += 16 * stride) tile16x1(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        } else {
            for (int j = 0; j < groups; j += 12, ao += 12 * stride) tile12x1(xp, xo, panel, j * KC, n, acc, ao, stride, first);
        }
    }

    /** Multiplies a decoded panel of a block-scaled weight by each element's block scale. */
    private static void scaleBlocks(CpuWeight w, int o0, int o1, int p0, int n, float[] panel) {
        int[] colBlock = w.permutedColumnBlocks();
        int blockRows = w.block().rows();
        for (int j = 0; j < o1 - o0; j++) {
            int rb = (o0 + j) / blockRows;
            for (int p = 0; p < n; p++) panel[j * KC + p] *= w.blockScale(rb, colBlock[p0 + p]);
        }
    }

    /**
     * Decodes weight rows {@code [o0, o1)}, columns {@code [p0, p0 + n)} in permuted order, into {@code panel}: column
     * {@code p} of row {@code j} at float {@code j * KC + p - p0}; the rows from {@code o1} up to the next multiple of
     * {@link #GROUP} are zero.
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
        int end = o0 + paddedWeightRows(o1 - o0);
        for (int o = o0; o < end; o++) {
            int d0 = (o - o0) * KC - p0;
            if (o >= o1) {
                java.util.Arrays.fill(panel, d0 + p0, d0 + p0 + n, 0f);
                continue;
            }
            long off = (long) o * cols * dtype.bytes();
            for (int e = p0; e < e1; e += block) {
                long at = off + (long) e * dtype.bytes();
                int d = d0 + e;
                switch (dtype) {
                    case F32 -> FloatVector.fromMemorySegment(Matmul.FS, seg, at, LE).intoArray(panel, d);
                    case BF16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.bf16Lo(v).intoArray(panel, d);
                        Matmul.bf16Hi(v).intoArray(panel, d + VL);
                    }
                    case F16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.f16Lo(v).mul(Matmul.F16_BIAS).intoArray(panel, d);
                        Matmul.f16Hi(v).mul(Matmul.F16_BIAS).intoArray(panel, d + VL);
                    }
                    case F8_E4M3 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 4, 0x87F00000,
                            Matmul.E4M3_BIAS, panel, d);
                    case F8_E5M2 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 3, 0x8FE00000,
                            Matmul.E5M2_BIAS, panel, d);
                    default -> throw new IllegalArgumentException("dtype " + dtype);
                }
            }
            // the tail past the last full block is in natural order
            for (int e = Math.max(p0, full); e < p0 + n; e++) panel[d0 + e] = FloatFormats.read(w.tensor(), (long) o * cols + e);
            if (special != null && Matmul.isSet(special, o)) {
                for (int e = p0; e < p0 + n; e++) {
                    panel[d0 + Matmul.permuted(e, cols, lanes)] = FloatFormats.read(w.tensor(), (long) o * cols + e);
                }
            }
        }
    }

    private static void fp8(IntVector v, int shift, int mask, float bias, float[] panel, int d) {
        IntVector odd = Matmul.fp8Odd(v, shift), even = Matmul.fp8Even(v, shift);
        Matmul.fp8Low(even, mask).mul(bias).intoArray(panel, d);
        Matmul.fp8Low(odd, mask).mul(bias).intoArray(panel, d + VL);
        Matmul.fp8High(even, mask).mul(bias).intoArray(panel, d + 2 * VL);
        Matmul.fp8High(odd, mask).mul(bias).intoArray(panel, d + 3 * VL);
    }

    // ---- The micro-kernels, one per shape (C2 keeps vectors in registers only when they are named locals). Each
    // continues (or, when first, starts) the sums of weight row j for activation row r held at acc[ao + j * stride + r],
    // over n columns of the weight rows at panel[po + j * KC ..] and the activation block at xp[xo ..], whose rows sit
    // side by side, as many vectors wide as the kernel's second number. 32 vector registers (AVX-512) hold up to 24
    // accumulators beside the activation vectors and a broadcast; 16 (AVX2, NEON) hold 12.

    static void tile6x4(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c02 = FloatVector.fromArray(fs, acc, ao + 2 * VL);
            c03 = FloatVector.fromArray(fs, acc, ao + 3 * VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c12 = FloatVector.fromArray(fs, acc, ao + stride + 2 * VL);
            c13 = FloatVector.fromArray(fs, acc, ao + stride + 3 * VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c22 = FloatVector.fromArray(fs, acc, ao + 2 * stride + 2 * VL);
            c23 = FloatVector.fromArray(fs, acc, ao + 2 * stride + 3 * VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c32 = FloatVector.fromArray(fs, acc, ao + 3 * stride + 2 * VL);
            c33 = FloatVector.fromArray(fs, acc, ao + 3 * stride + 3 * VL);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c41 = FloatVector.fromArray(fs, acc, ao + 4 * stride + VL);
            c42 = FloatVector.fromArray(fs, acc, ao + 4 * stride + 2 * VL);
            c43 = FloatVector.fromArray(fs, acc, ao + 4 * stride + 3 * VL);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c51 = FloatVector.fromArray(fs, acc, ao + 5 * stride + VL);
            c52 = FloatVector.fromArray(fs, acc, ao + 5 * stride + 2 * VL);
            c53 = FloatVector.fromArray(fs, acc, ao + 5 * stride + 3 * VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 4 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector x2 = FloatVector.fromArray(fs, xp, xi + 2 * VL);
            FloatVector x3 = FloatVector.fromArray(fs, xp, xi + 3 * VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            c02 = x2.fma(w0, c02);
            c03 = x3.fma(w0, c03);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            c12 = x2.fma(w1, c12);
            c13 = x3.fma(w1, c13);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            c22 = x2.fma(w2, c22);
            c23 = x3.fma(w2, c23);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            c32 = x2.fma(w3, c32);
            c33 = x3.fma(w3, c33);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            c41 = x1.fma(w4, c41);
            c42 = x2.fma(w4, c42);
            c43 = x3.fma(w4, c43);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            c51 = x1.fma(w5, c51);
            c52 = x2.fma(w5, c52);
            c53 = x3.fma(w5, c53);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c02.intoArray(acc, ao + 2 * VL);
        c03.intoArray(acc, ao + 3 * VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c12.intoArray(acc, ao + stride + 2 * VL);
        c13.intoArray(acc, ao + stride + 3 * VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c22.intoArray(acc, ao + 2 * stride + 2 * VL);
        c23.intoArray(acc, ao + 2 * stride + 3 * VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c32.intoArray(acc, ao + 3 * stride + 2 * VL);
        c33.intoArray(acc, ao + 3 * stride + 3 * VL);
        c40.intoArray(acc, ao + 4 * stride);
        c41.intoArray(acc, ao + 4 * stride + VL);
        c42.intoArray(acc, ao + 4 * stride + 2 * VL);
        c43.intoArray(acc, ao + 4 * stride + 3 * VL);
        c50.intoArray(acc, ao + 5 * stride);
        c51.intoArray(acc, ao + 5 * stride + VL);
        c52.intoArray(acc, ao + 5 * stride + 2 * VL);
        c53.intoArray(acc, ao + 5 * stride + 3 * VL);
    }

    static void tile4x4(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c02 = FloatVector.fromArray(fs, acc, ao + 2 * VL);
            c03 = FloatVector.fromArray(fs, acc, ao + 3 * VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c12 = FloatVector.fromArray(fs, acc, ao + stride + 2 * VL);
            c13 = FloatVector.fromArray(fs, acc, ao + stride + 3 * VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c22 = FloatVector.fromArray(fs, acc, ao + 2 * stride + 2 * VL);
            c23 = FloatVector.fromArray(fs, acc, ao + 2 * stride + 3 * VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c32 = FloatVector.fromArray(fs, acc, ao + 3 * stride + 2 * VL);
            c33 = FloatVector.fromArray(fs, acc, ao + 3 * stride + 3 * VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 4 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector x2 = FloatVector.fromArray(fs, xp, xi + 2 * VL);
            FloatVector x3 = FloatVector.fromArray(fs, xp, xi + 3 * VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            c02 = x2.fma(w0, c02);
            c03 = x3.fma(w0, c03);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            c12 = x2.fma(w1, c12);
            c13 = x3.fma(w1, c13);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            c22 = x2.fma(w2, c22);
            c23 = x3.fma(w2, c23);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            c32 = x2.fma(w3, c32);
            c33 = x3.fma(w3, c33);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c02.intoArray(acc, ao + 2 * VL);
        c03.intoArray(acc, ao + 3 * VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c12.intoArray(acc, ao + stride + 2 * VL);
        c13.intoArray(acc, ao + stride + 3 * VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c22.intoArray(acc, ao + 2 * stride + 2 * VL);
        c23.intoArray(acc, ao + 2 * stride + 3 * VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c32.intoArray(acc, ao + 3 * stride + 2 * VL);
        c33.intoArray(acc, ao + 3 * stride + 3 * VL);
    }

    static void tile8x3(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z;
        FloatVector c22 = z, c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z;
        FloatVector c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c02 = FloatVector.fromArray(fs, acc, ao + 2 * VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c12 = FloatVector.fromArray(fs, acc, ao + stride + 2 * VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c22 = FloatVector.fromArray(fs, acc, ao + 2 * stride + 2 * VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c32 = FloatVector.fromArray(fs, acc, ao + 3 * stride + 2 * VL);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c41 = FloatVector.fromArray(fs, acc, ao + 4 * stride + VL);
            c42 = FloatVector.fromArray(fs, acc, ao + 4 * stride + 2 * VL);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c51 = FloatVector.fromArray(fs, acc, ao + 5 * stride + VL);
            c52 = FloatVector.fromArray(fs, acc, ao + 5 * stride + 2 * VL);
            c60 = FloatVector.fromArray(fs, acc, ao + 6 * stride);
            c61 = FloatVector.fromArray(fs, acc, ao + 6 * stride + VL);
            c62 = FloatVector.fromArray(fs, acc, ao + 6 * stride + 2 * VL);
            c70 = FloatVector.fromArray(fs, acc, ao + 7 * stride);
            c71 = FloatVector.fromArray(fs, acc, ao + 7 * stride + VL);
            c72 = FloatVector.fromArray(fs, acc, ao + 7 * stride + 2 * VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 3 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector x2 = FloatVector.fromArray(fs, xp, xi + 2 * VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            c02 = x2.fma(w0, c02);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            c12 = x2.fma(w1, c12);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            c22 = x2.fma(w2, c22);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            c32 = x2.fma(w3, c32);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            c41 = x1.fma(w4, c41);
            c42 = x2.fma(w4, c42);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            c51 = x1.fma(w5, c51);
            c52 = x2.fma(w5, c52);
            FloatVector w6 = FloatVector.broadcast(fs, panel[wi + 6 * KC]);
            c60 = x0.fma(w6, c60);
            c61 = x1.fma(w6, c61);
            c62 = x2.fma(w6, c62);
            FloatVector w7 = FloatVector.broadcast(fs, panel[wi + 7 * KC]);
            c70 = x0.fma(w7, c70);
            c71 = x1.fma(w7, c71);
            c72 = x2.fma(w7, c72);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c02.intoArray(acc, ao + 2 * VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c12.intoArray(acc, ao + stride + 2 * VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c22.intoArray(acc, ao + 2 * stride + 2 * VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c32.intoArray(acc, ao + 3 * stride + 2 * VL);
        c40.intoArray(acc, ao + 4 * stride);
        c41.intoArray(acc, ao + 4 * stride + VL);
        c42.intoArray(acc, ao + 4 * stride + 2 * VL);
        c50.intoArray(acc, ao + 5 * stride);
        c51.intoArray(acc, ao + 5 * stride + VL);
        c52.intoArray(acc, ao + 5 * stride + 2 * VL);
        c60.intoArray(acc, ao + 6 * stride);
        c61.intoArray(acc, ao + 6 * stride + VL);
        c62.intoArray(acc, ao + 6 * stride + 2 * VL);
        c70.intoArray(acc, ao + 7 * stride);
        c71.intoArray(acc, ao + 7 * stride + VL);
        c72.intoArray(acc, ao + 7 * stride + 2 * VL);
    }

    static void tile12x2(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        FloatVector c80 = z, c81 = z, c90 = z, c91 = z, ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c41 = FloatVector.fromArray(fs, acc, ao + 4 * stride + VL);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c51 = FloatVector.fromArray(fs, acc, ao + 5 * stride + VL);
            c60 = FloatVector.fromArray(fs, acc, ao + 6 * stride);
            c61 = FloatVector.fromArray(fs, acc, ao + 6 * stride + VL);
            c70 = FloatVector.fromArray(fs, acc, ao + 7 * stride);
            c71 = FloatVector.fromArray(fs, acc, ao + 7 * stride + VL);
            c80 = FloatVector.fromArray(fs, acc, ao + 8 * stride);
            c81 = FloatVector.fromArray(fs, acc, ao + 8 * stride + VL);
            c90 = FloatVector.fromArray(fs, acc, ao + 9 * stride);
            c91 = FloatVector.fromArray(fs, acc, ao + 9 * stride + VL);
            ca0 = FloatVector.fromArray(fs, acc, ao + 10 * stride);
            ca1 = FloatVector.fromArray(fs, acc, ao + 10 * stride + VL);
            cb0 = FloatVector.fromArray(fs, acc, ao + 11 * stride);
            cb1 = FloatVector.fromArray(fs, acc, ao + 11 * stride + VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 2 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            c41 = x1.fma(w4, c41);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            c51 = x1.fma(w5, c51);
            FloatVector w6 = FloatVector.broadcast(fs, panel[wi + 6 * KC]);
            c60 = x0.fma(w6, c60);
            c61 = x1.fma(w6, c61);
            FloatVector w7 = FloatVector.broadcast(fs, panel[wi + 7 * KC]);
            c70 = x0.fma(w7, c70);
            c71 = x1.fma(w7, c71);
            FloatVector w8 = FloatVector.broadcast(fs, panel[wi + 8 * KC]);
            c80 = x0.fma(w8, c80);
            c81 = x1.fma(w8, c81);
            FloatVector w9 = FloatVector.broadcast(fs, panel[wi + 9 * KC]);
            c90 = x0.fma(w9, c90);
            c91 = x1.fma(w9, c91);
            FloatVector w10 = FloatVector.broadcast(fs, panel[wi + 10 * KC]);
            ca0 = x0.fma(w10, ca0);
            ca1 = x1.fma(w10, ca1);
            FloatVector w11 = FloatVector.broadcast(fs, panel[wi + 11 * KC]);
            cb0 = x0.fma(w11, cb0);
            cb1 = x1.fma(w11, cb1);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c40.intoArray(acc, ao + 4 * stride);
        c41.intoArray(acc, ao + 4 * stride + VL);
        c50.intoArray(acc, ao + 5 * stride);
        c51.intoArray(acc, ao + 5 * stride + VL);
        c60.intoArray(acc, ao + 6 * stride);
        c61.intoArray(acc, ao + 6 * stride + VL);
        c70.intoArray(acc, ao + 7 * stride);
        c71.intoArray(acc, ao + 7 * stride + VL);
        c80.intoArray(acc, ao + 8 * stride);
        c81.intoArray(acc, ao + 8 * stride + VL);
        c90.intoArray(acc, ao + 9 * stride);
        c91.intoArray(acc, ao + 9 * stride + VL);
        ca0.intoArray(acc, ao + 10 * stride);
        ca1.intoArray(acc, ao + 10 * stride + VL);
        cb0.intoArray(acc, ao + 11 * stride);
        cb1.intoArray(acc, ao + 11 * stride + VL);
    }

    static void tile8x2(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c41 = FloatVector.fromArray(fs, acc, ao + 4 * stride + VL);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c51 = FloatVector.fromArray(fs, acc, ao + 5 * stride + VL);
            c60 = FloatVector.fromArray(fs, acc, ao + 6 * stride);
            c61 = FloatVector.fromArray(fs, acc, ao + 6 * stride + VL);
            c70 = FloatVector.fromArray(fs, acc, ao + 7 * stride);
            c71 = FloatVector.fromArray(fs, acc, ao + 7 * stride + VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 2 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            c41 = x1.fma(w4, c41);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            c51 = x1.fma(w5, c51);
            FloatVector w6 = FloatVector.broadcast(fs, panel[wi + 6 * KC]);
            c60 = x0.fma(w6, c60);
            c61 = x1.fma(w6, c61);
            FloatVector w7 = FloatVector.broadcast(fs, panel[wi + 7 * KC]);
            c70 = x0.fma(w7, c70);
            c71 = x1.fma(w7, c71);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c40.intoArray(acc, ao + 4 * stride);
        c41.intoArray(acc, ao + 4 * stride + VL);
        c50.intoArray(acc, ao + 5 * stride);
        c51.intoArray(acc, ao + 5 * stride + VL);
        c60.intoArray(acc, ao + 6 * stride);
        c61.intoArray(acc, ao + 6 * stride + VL);
        c70.intoArray(acc, ao + 7 * stride);
        c71.intoArray(acc, ao + 7 * stride + VL);
    }

    static void tile16x1(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c10 = z, c20 = z, c30 = z, c40 = z, c50 = z, c60 = z, c70 = z;
        FloatVector c80 = z, c90 = z, ca0 = z, cb0 = z, cc0 = z, cd0 = z, ce0 = z, cf0 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c60 = FloatVector.fromArray(fs, acc, ao + 6 * stride);
            c70 = FloatVector.fromArray(fs, acc, ao + 7 * stride);
            c80 = FloatVector.fromArray(fs, acc, ao + 8 * stride);
            c90 = FloatVector.fromArray(fs, acc, ao + 9 * stride);
            ca0 = FloatVector.fromArray(fs, acc, ao + 10 * stride);
            cb0 = FloatVector.fromArray(fs, acc, ao + 11 * stride);
            cc0 = FloatVector.fromArray(fs, acc, ao + 12 * stride);
            cd0 = FloatVector.fromArray(fs, acc, ao + 13 * stride);
            ce0 = FloatVector.fromArray(fs, acc, ao + 14 * stride);
            cf0 = FloatVector.fromArray(fs, acc, ao + 15 * stride);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            FloatVector w6 = FloatVector.broadcast(fs, panel[wi + 6 * KC]);
            c60 = x0.fma(w6, c60);
            FloatVector w7 = FloatVector.broadcast(fs, panel[wi + 7 * KC]);
            c70 = x0.fma(w7, c70);
            FloatVector w8 = FloatVector.broadcast(fs, panel[wi + 8 * KC]);
            c80 = x0.fma(w8, c80);
            FloatVector w9 = FloatVector.broadcast(fs, panel[wi + 9 * KC]);
            c90 = x0.fma(w9, c90);
            FloatVector wa = FloatVector.broadcast(fs, panel[wi + 10 * KC]);
            ca0 = x0.fma(wa, ca0);
            FloatVector wb = FloatVector.broadcast(fs, panel[wi + 11 * KC]);
            cb0 = x0.fma(wb, cb0);
            FloatVector wc = FloatVector.broadcast(fs, panel[wi + 12 * KC]);
            cc0 = x0.fma(wc, cc0);
            FloatVector wd = FloatVector.broadcast(fs, panel[wi + 13 * KC]);
            cd0 = x0.fma(wd, cd0);
            FloatVector we = FloatVector.broadcast(fs, panel[wi + 14 * KC]);
            ce0 = x0.fma(we, ce0);
            FloatVector wf = FloatVector.broadcast(fs, panel[wi + 15 * KC]);
            cf0 = x0.fma(wf, cf0);
        }
        c00.intoArray(acc, ao);
        c10.intoArray(acc, ao + stride);
        c20.intoArray(acc, ao + 2 * stride);
        c30.intoArray(acc, ao + 3 * stride);
        c40.intoArray(acc, ao + 4 * stride);
        c50.intoArray(acc, ao + 5 * stride);
        c60.intoArray(acc, ao + 6 * stride);
        c70.intoArray(acc, ao + 7 * stride);
        c80.intoArray(acc, ao + 8 * stride);
        c90.intoArray(acc, ao + 9 * stride);
        ca0.intoArray(acc, ao + 10 * stride);
        cb0.intoArray(acc, ao + 11 * stride);
        cc0.intoArray(acc, ao + 12 * stride);
        cd0.intoArray(acc, ao + 13 * stride);
        ce0.intoArray(acc, ao + 14 * stride);
        cf0.intoArray(acc, ao + 15 * stride);
    }

    static void tile6x2(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c01 = FloatVector.fromArray(fs, acc, ao + VL);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c11 = FloatVector.fromArray(fs, acc, ao + stride + VL);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c21 = FloatVector.fromArray(fs, acc, ao + 2 * stride + VL);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c31 = FloatVector.fromArray(fs, acc, ao + 3 * stride + VL);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c41 = FloatVector.fromArray(fs, acc, ao + 4 * stride + VL);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c51 = FloatVector.fromArray(fs, acc, ao + 5 * stride + VL);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * 2 * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            c31 = x1.fma(w3, c31);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            c41 = x1.fma(w4, c41);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            c51 = x1.fma(w5, c51);
        }
        c00.intoArray(acc, ao);
        c01.intoArray(acc, ao + VL);
        c10.intoArray(acc, ao + stride);
        c11.intoArray(acc, ao + stride + VL);
        c20.intoArray(acc, ao + 2 * stride);
        c21.intoArray(acc, ao + 2 * stride + VL);
        c30.intoArray(acc, ao + 3 * stride);
        c31.intoArray(acc, ao + 3 * stride + VL);
        c40.intoArray(acc, ao + 4 * stride);
        c41.intoArray(acc, ao + 4 * stride + VL);
        c50.intoArray(acc, ao + 5 * stride);
        c51.intoArray(acc, ao + 5 * stride + VL);
    }

    static void tile12x1(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c10 = z, c20 = z, c30 = z, c40 = z, c50 = z, c60 = z, c70 = z;
        FloatVector c80 = z, c90 = z, ca0 = z, cb0 = z;
        if (!first) {
            c00 = FloatVector.fromArray(fs, acc, ao);
            c10 = FloatVector.fromArray(fs, acc, ao + stride);
            c20 = FloatVector.fromArray(fs, acc, ao + 2 * stride);
            c30 = FloatVector.fromArray(fs, acc, ao + 3 * stride);
            c40 = FloatVector.fromArray(fs, acc, ao + 4 * stride);
            c50 = FloatVector.fromArray(fs, acc, ao + 5 * stride);
            c60 = FloatVector.fromArray(fs, acc, ao + 6 * stride);
            c70 = FloatVector.fromArray(fs, acc, ao + 7 * stride);
            c80 = FloatVector.fromArray(fs, acc, ao + 8 * stride);
            c90 = FloatVector.fromArray(fs, acc, ao + 9 * stride);
            ca0 = FloatVector.fromArray(fs, acc, ao + 10 * stride);
            cb0 = FloatVector.fromArray(fs, acc, ao + 11 * stride);
        }
        for (int p = 0; p < n; p++) {
            int xi = xo + p * VL;
            int wi = po + p;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector w0 = FloatVector.broadcast(fs, panel[wi]);
            c00 = x0.fma(w0, c00);
            FloatVector w1 = FloatVector.broadcast(fs, panel[wi + KC]);
            c10 = x0.fma(w1, c10);
            FloatVector w2 = FloatVector.broadcast(fs, panel[wi + 2 * KC]);
            c20 = x0.fma(w2, c20);
            FloatVector w3 = FloatVector.broadcast(fs, panel[wi + 3 * KC]);
            c30 = x0.fma(w3, c30);
            FloatVector w4 = FloatVector.broadcast(fs, panel[wi + 4 * KC]);
            c40 = x0.fma(w4, c40);
            FloatVector w5 = FloatVector.broadcast(fs, panel[wi + 5 * KC]);
            c50 = x0.fma(w5, c50);
            FloatVector w6 = FloatVector.broadcast(fs, panel[wi + 6 * KC]);
            c60 = x0.fma(w6, c60);
            FloatVector w7 = FloatVector.broadcast(fs, panel[wi + 7 * KC]);
            c70 = x0.fma(w7, c70);
            FloatVector w8 = FloatVector.broadcast(fs, panel[wi + 8 * KC]);
            c80 = x0.fma(w8, c80);
            FloatVector w9 = FloatVector.broadcast(fs, panel[wi + 9 * KC]);
            c90 = x0.fma(w9, c90);
            FloatVector wa = FloatVector.broadcast(fs, panel[wi + 10 * KC]);
            ca0 = x0.fma(wa, ca0);
            FloatVector wb = FloatVector.broadcast(fs, panel[wi + 11 * KC]);
            cb0 = x0.fma(wb, cb0);
        }
        c00.intoArray(acc, ao);
        c10.intoArray(acc, ao + stride);
        c20.intoArray(acc, ao + 2 * stride);
        c30.intoArray(acc, ao + 3 * stride);
        c40.intoArray(acc, ao + 4 * stride);
        c50.intoArray(acc, ao + 5 * stride);
        c60.intoArray(acc, ao + 6 * stride);
        c70.intoArray(acc, ao + 7 * stride);
        c80.intoArray(acc, ao + 8 * stride);
        c90.intoArray(acc, ao + 9 * stride);
        ca0.intoArray(acc, ao + 10 * stride);
        cb0.intoArray(acc, ao + 11 * stride);
    }
}
