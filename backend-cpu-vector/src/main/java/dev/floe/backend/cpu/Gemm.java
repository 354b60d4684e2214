package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * {@code y = x W^T} for many activation rows (prompts, batched decode, the rows routed to one expert): the
 * register-blocked GEMM of BLIS and oneDNN, in place of {@link Matmul}'s dot products, which reload the activations
 * for every weight row and so run at the rate of the loads rather than the multiply-adds.
 *
 * <p>Both operands are first packed into panels of float32 vectors in the order the micro-kernel reads them:
 * <ul>
 * <li>the activations once per call ({@link #packActivations}): {@link #MR} rows interleaved vector by vector, in the
 *     stream order of {@link Matmul#permute} so that the weights can be decoded without shuffling lanes;</li>
 * <li>the weights once per panel ({@link #decodePanel}): {@link #PANEL} weight rows by {@link #KC} columns, decoded
 *     from their stored format (BF16, F16, FP8 E4M3/E5M2, F32) with {@link Matmul}'s bit moves, {@link #NR} rows
 *     interleaved. The panel (256 KiB) stays in L2 while every block of activation rows passes over it.</li>
 * </ul>
 * The micro-kernel ({@link #tile}) keeps an {@code MR x NR} tile of vector accumulators in registers: per step it loads
 * {@code MR + NR} vectors for {@code MR x NR} multiply-adds (0.5 loads per FMA, against more than one in the dot
 * products).
 *
 * <p>Deterministic: output {@code (r, o)} is the fixed-order lane sum ({@link Lanes#sum}) of {@code VL} FMA chains
 * over each block of {@link #KC} columns, the blocks added in column order, then multiplied by the row's scale. None
 * of it depends on the number of threads, the other rows of the batch or the split into tasks, so a row gives the
 * same bits whatever it is batched with. Codes the bit moves cannot decode (inf, NaN; {@link CpuWeight#specialRows})
 * are decoded exactly in scalar code for their rows.
 */
final class Gemm {
    private static final int VL = Matmul.VL;
    /** Activation rows per register tile. */
    static final int MR = 4;
    /** Weight rows per register tile. */
    static final int NR = 4;
    /** Columns per cache block: a multiple of every format's block ({@code 4 VL}), so no block straddles two. */
    static final int KC = 1024;
    /** Weight rows decoded together (a multiple of {@link #NR}): one task, and {@code PANEL x KC} floats of scratch. */
    static final int PANEL = 64;
    /** From this many activation rows on, {@link CpuVectorBackend#matmul} uses this GEMM. */
    static final int MIN_ROWS = Integer.getInteger("floe.cpu.gemm-rows", 16);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[PANEL * KC]);
    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);

    private Gemm() {
    }

    /**
     * {@code out[outOff + r * w.rows() + o] = sum_i x[xOff + r * w.cols() + i] * W[o][i] * scale(o)} for {@code rows}
     * rows, spread over {@code pool} (the calling thread alone when null). The weight must have been
     * {@linkplain CpuWeight#scan scanned}. Usable by any operation holding gathered rows, such as grouped experts.
     */
    static void multiply(WorkerPool pool, CpuWeight w, float[] x, int xOff, int rows, float[] out, int outOff) {
        if (rows <= 0 || w.rows() == 0) return;
        int cols = (int) w.cols();
        int lanes = Matmul.lanes(w.dtype());
        int steps = (cols + VL - 1) / VL;
        int blocks = (rows + MR - 1) / MR;
        float[] xp = PACKED.get();
        if (xp.length < blocks * MR * steps * VL) {
            xp = new float[blocks * MR * steps * VL];
            PACKED.set(xp);
        }
        packActivations(x, xOff, rows, cols, lanes, xp);
        int outRows = (int) w.rows();
        int panels = (outRows + PANEL - 1) / PANEL;
        float[] packed = xp;
        if (pool == null || panels == 1) {
            for (int p = 0; p < panels; p++) panel(w, packed, rows, p * PANEL, out, outOff);
        } else {
            pool.run(panels, p -> panel(w, packed, rows, p * PANEL, out, outOff));
        }
    }

    /**
     * Packs {@code rows} rows of {@code cols} activations into blocks of {@link #MR} rows: vector step {@code s} of
     * row {@code q} of block {@code b} at {@code ((b * steps + s) * MR + q) * VL}, the elements of each row in
     * {@link Matmul#permuted} order, rows and columns padded with zeros to whole blocks and vectors.
     */
    static void packActivations(float[] x, int xOff, int rows, int cols, int lanes, float[] xp) {
        int steps = (cols + VL - 1) / VL;
        int blocks = (rows + MR - 1) / MR;
        int block = lanes * VL;
        int full = cols / block * block;
        for (int r = 0; r < blocks * MR; r++) {
            int base = ((r / MR) * steps * MR + r % MR) * VL;
            if (r >= rows) {
                for (int s = 0; s < steps; s++) Arrays.fill(xp, base + s * MR * VL, base + s * MR * VL + VL, 0f);
                continue;
            }
            int src = xOff + r * cols;
            for (int b = 0; b < full; b += block) {
                for (int k = 0; k < lanes; k++) {
                    int d = base + (b / VL + k) * MR * VL;
                    int s = src + b + k;
                    for (int i = 0; i < VL; i++) xp[d + i] = x[s + i * lanes];
                }
            }
            for (int e = full; e < steps * VL; e++) {
                xp[base + (e / VL) * MR * VL + e % VL] = e < cols ? x[src + e] : 0f;
            }
        }
    }

    /** Weight rows {@code [o0, o0 + PANEL)} against all activation rows, block of columns by block. */
    private static void panel(CpuWeight w, float[] xp, int rows, int o0, float[] out, int outOff) {
        int outRows = (int) w.rows();
        int cols = (int) w.cols();
        int steps = (cols + VL - 1) / VL;
        int o1 = Math.min(outRows, o0 + PANEL);
        int tiles = (o1 - o0 + NR - 1) / NR;
        int blocks = (rows + MR - 1) / MR;
        float[] wp = PANELS.get();
        float[] sums = new float[MR * NR];
        for (int s0 = 0; s0 < steps; s0 += KC / VL) {
            int s1 = Math.min(steps, s0 + KC / VL);
            int n = s1 - s0;
            decodePanel(w, o0, o1, tiles * NR, s0, s1, wp);
            for (int b = 0; b < blocks; b++) {
                int xo = (b * steps + s0) * MR * VL;
                int r0 = b * MR;
                int rn = Math.min(MR, rows - r0);
                for (int t = 0; t < tiles; t++) {
                    tile(xp, xo, wp, t * n * NR * VL, n, sums);
                    int c0 = o0 + t * NR;
                    int cn = Math.min(NR, o1 - c0);
                    for (int q = 0; q < rn; q++) {
                        int at = outOff + (r0 + q) * outRows + c0;
                        for (int j = 0; j < cn; j++) {
                            out[at + j] = s0 == 0 ? sums[q * NR + j] : out[at + j] + sums[q * NR + j];
                        }
                    }
                }
            }
        }
        if (w.scaled()) {
            for (int r = 0; r < rows; r++) {
                int at = outOff + r * outRows;
                for (int o = o0; o < o1; o++) out[at + o] *= w.rowScale(o);
            }
        }
    }

    /**
     * Decodes weight rows {@code [o0, o1)}, vector steps {@code [s0, s1)}, into {@code wp}: step {@code s} of row
     * {@code j} of tile {@code t} at {@code ((t * (s1 - s0) + s - s0) * NR + j) * VL}; rows from {@code o1} up to
     * {@code o0 + padRows} are zero.
     */
    static void decodePanel(CpuWeight w, int o0, int o1, int padRows, int s0, int s1, float[] wp) {
        MemorySegment seg = w.data();
        DType dtype = w.dtype();
        int cols = (int) w.cols();
        int lanes = Matmul.lanes(dtype);
        int block = lanes * VL;
        int full = cols / block * block;
        int n = s1 - s0;
        long[] special = w.specialRows();
        int e0 = s0 * VL, e1 = Math.min(s1 * VL, full);
        for (int j = 0; j < padRows; j++) {
            int o = o0 + j;
            int rowBase = ((j / NR) * n * NR + j % NR) * VL;
            if (o >= o1) {
                for (int s = 0; s < n; s++) Arrays.fill(wp, rowBase + s * NR * VL, rowBase + s * NR * VL + VL, 0f);
                continue;
            }
            long off = (long) o * cols * dtype.bytes();
            int stride = NR * VL;
            int d = rowBase;
            for (int e = e0; e < e1; e += block, d += lanes * stride) {
                long at = off + (long) e * dtype.bytes();
                switch (dtype) {
                    case F32 -> FloatVector.fromMemorySegment(Matmul.FS, seg, at, LE).intoArray(wp, d);
                    case BF16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.bf16Lo(v).intoArray(wp, d);
                        Matmul.bf16Hi(v).intoArray(wp, d + stride);
                    }
                    case F16 -> {
                        IntVector v = IntVector.fromMemorySegment(Matmul.IS, seg, at, LE);
                        Matmul.f16Lo(v).mul(Matmul.F16_BIAS).intoArray(wp, d);
                        Matmul.f16Hi(v).mul(Matmul.F16_BIAS).intoArray(wp, d + stride);
                    }
                    case F8_E4M3 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 4, 0x87F00000,
                            Matmul.E4M3_BIAS, wp, d, stride);
                    case F8_E5M2 -> fp8(IntVector.fromMemorySegment(Matmul.IS, seg, at, LE), 3, 0x8FE00000,
                            Matmul.E5M2_BIAS, wp, d, stride);
                    default -> throw new IllegalArgumentException("dtype " + dtype);
                }
            }
            // the tail past the last full block, in natural order, then zeros up to a whole vector
            for (int e = Math.max(e0, full); e < s1 * VL; e++) {
                wp[rowBase + (e / VL - s0) * stride + e % VL] = e < cols ? FloatFormats.read(w.tensor(), (long) o * cols + e) : 0f;
            }
            if (special != null && Matmul.isSet(special, o)) {
                for (int e = e0; e < Math.min(cols, s1 * VL); e++) {
                    int p = Matmul.permuted(e, cols, lanes);
                    wp[rowBase + (p / VL - s0) * stride + p % VL] = FloatFormats.read(w.tensor(), (long) o * cols + e);
                }
            }
        }
    }

    private static void fp8(IntVector v, int shift, int mask, float bias, float[] wp, int d, int stride) {
        IntVector odd = Matmul.fp8Odd(v, shift), even = Matmul.fp8Even(v, shift);
        Matmul.fp8Low(even, mask).mul(bias).intoArray(wp, d);
        Matmul.fp8Low(odd, mask).mul(bias).intoArray(wp, d + stride);
        Matmul.fp8High(even, mask).mul(bias).intoArray(wp, d + 2 * stride);
        Matmul.fp8High(odd, mask).mul(bias).intoArray(wp, d + 3 * stride);
    }

    /**
     * The register tile: {@code sums[q * NR + j]} = the dot product over {@code n} vector steps of activation row
     * {@code q} (packed at {@code xp[xo..]}) and weight row {@code j} (packed at {@code wp[wo..]}).
     */
    static void tile(float[] xp, int xo, float[] wp, int wo, int n, float[] sums) {
        var fs = Matmul.FS;
        FloatVector z = FloatVector.zero(fs);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
        FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
        for (int s = 0; s < n; s++) {
            int xi = xo + s * MR * VL, wi = wo + s * NR * VL;
            FloatVector x0 = FloatVector.fromArray(fs, xp, xi);
            FloatVector x1 = FloatVector.fromArray(fs, xp, xi + VL);
            FloatVector x2 = FloatVector.fromArray(fs, xp, xi + 2 * VL);
            FloatVector x3 = FloatVector.fromArray(fs, xp, xi + 3 * VL);
            FloatVector w = FloatVector.fromArray(fs, wp, wi);
            a00 = w.fma(x0, a00);
            a10 = w.fma(x1, a10);
            a20 = w.fma(x2, a20);
            a30 = w.fma(x3, a30);
            w = FloatVector.fromArray(fs, wp, wi + VL);
            a01 = w.fma(x0, a01);
            a11 = w.fma(x1, a11);
            a21 = w.fma(x2, a21);
            a31 = w.fma(x3, a31);
            w = FloatVector.fromArray(fs, wp, wi + 2 * VL);
            a02 = w.fma(x0, a02);
            a12 = w.fma(x1, a12);
            a22 = w.fma(x2, a22);
            a32 = w.fma(x3, a32);
            w = FloatVector.fromArray(fs, wp, wi + 3 * VL);
            a03 = w.fma(x0, a03);
            a13 = w.fma(x1, a13);
            a23 = w.fma(x2, a23);
            a33 = w.fma(x3, a33);
        }
        sums[0] = Lanes.sum(a00);
        sums[1] = Lanes.sum(a01);
        sums[2] = Lanes.sum(a02);
        sums[3] = Lanes.sum(a03);
        sums[4] = Lanes.sum(a10);
        sums[5] = Lanes.sum(a11);
        sums[6] = Lanes.sum(a12);
        sums[7] = Lanes.sum(a13);
        sums[8] = Lanes.sum(a20);
        sums[9] = Lanes.sum(a21);
        sums[10] = Lanes.sum(a22);
        sums[11] = Lanes.sum(a23);
        sums[12] = Lanes.sum(a30);
        sums[13] = Lanes.sum(a31);
        sums[14] = Lanes.sum(a32);
        sums[15] = Lanes.sum(a33);
    }
}
