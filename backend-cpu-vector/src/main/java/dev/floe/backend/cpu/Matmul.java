package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dequantise-and-dot kernels of {@code y = x W^T} reading the weight in its stored format.
 *
 * <p>Each weight vector load brings {@code VL} 32-bit lanes holding 1 (F32), 2 (BF16, F16) or 4 (FP8) elements. Rather
 * than shuffling weights across lanes, the activations are rearranged once per call ({@link #permute}) so that
 * "stream" {@code k} of a block, the {@code k}-th element of every lane, lines up with a contiguous vector of
 * activations; each stream is then decoded with two or three shifts and masks and fed to its own FMA accumulator.
 * Elements past the last full block (the tail) are computed with {@link FloatFormats}, in the original order. From
 * four activation rows on, the dot products run in tiles of four weight rows by four activation rows ({@link #tiles}).
 *
 * <p>FP8 and F16 are decoded by moving their sign, exponent and mantissa bits into a float32 whose exponent is too
 * small by a fixed bias ({@code 2^120} for E4M3, {@code 2^112} for E5M2 and F16); that power of two is applied once
 * per row. Codes the bit trick cannot represent (E4M3 NaN, E5M2/F16 infinities and NaN) are found once per weight
 * ({@link #scanSpecialRows}); those rows are recomputed in scalar code, which yields the IEEE result.
 */
final class Matmul {
    /**
     * The machine's preferred vector width, or {@code floe.cpu.vector-bits} (64, 128, 256, 512): a species the
     * hardware lacks runs in the Vector API's Java fallback, slower but with the same results, which lets a test run
     * the other register file's code paths (the AVX-512 layout on an AVX2 machine).
     */
    static final VectorSpecies<Float> FS = species(Integer.getInteger("floe.cpu.vector-bits"));
    /** Whether {@code floe.cpu.vector-bits} chose another width than the machine's. */
    static final boolean FORCED_WIDTH = FS.vectorShape() != FloatVector.SPECIES_PREFERRED.vectorShape();
    static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    static final int VL = FS.length();
    /** Whether the machine has 32 vector registers (AVX-512's 16 float lanes), else 16 (AVX2 and narrower). */
    static final boolean WIDE = VL >= 16;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /**
     * Bytes of weight rows per cache block. A block is first streamed into the cache by a tight read loop
     * ({@link #touch}), then multiplied from the cache: the read loop has one instruction per cache line, so the core
     * keeps far more misses in flight than the dequantising loop (five to twenty instructions per line) would, which
     * is what a batch-1 matvec is limited by. Several activation rows then reuse the block from L2.
     */
    static long blockBytes = Long.getLong("floe.cpu.block-bytes", 32 << 10);
    /** Stage blocks through the cache with {@link #touch} (a switch for benchmarks). */
    static boolean staged = !Boolean.getBoolean("floe.cpu.unstaged");
    /**
     * Stage the blocks of one- to three-row matmuls (batch-1 decode) too: by default with AVX-512 only. Measured in
     * alternating rounds ({@code BENCHMARKS.md}): staging sped batch-1 decode up on an AVX-512 machine (Zen 5, where
     * the dequantising loop alone keeps too few misses in flight) and slowed it by 17-30% on an AVX2 one (Zen 1, where
     * decoding and multiply-adds rather than the memory bound those dot products, so the extra pass over each block
     * is pure cost), where the tiles of four rows and more gained or lost nothing by it. {@code floe.cpu.stage-dots}
     * overrides.
     */
    static boolean stageDots = Boolean.parseBoolean(System.getProperty("floe.cpu.stage-dots", String.valueOf(WIDE)));
    /**
     * Stage BF16 rows too (off by default): their loops decode with two bit operations per 32 weights, so they keep
     * up with memory unstaged, and staging only adds a pass that does not overlap the multiply-adds. Measured in
     * alternating rounds on Zen 5 ({@code BENCHMARKS.md}): batch 64 +7% unstaged (its experts' 8-row tiles), batch-1
     * +4%; FP8, whose tiles and dots decode with nine operations per 64 codes, lost 11% at batch 64 unstaged.
     */
    static boolean stageBf16 = Boolean.getBoolean("floe.cpu.stage-bf16");

    /** Whether {@code rows} activation rows against {@code dtype} weights stage their weight blocks ({@link #touch}). */
    static boolean stages(DType dtype, int rows) {
        return staged && (dtype != DType.BF16 || stageBf16) && (rows >= 4 || stageDots);
    }

    /** What {@link #stages} leaves unstaged, for the device line: empty when everything is staged. */
    static String unstagedNote() {
        if (!staged) return ", weights streamed unstaged";
        if (!stageBf16 && !stageDots) return ", BF16 and batch-1 weights streamed unstaged";
        if (!stageBf16) return ", BF16 weights streamed unstaged";
        return stageDots ? "" : ", batch-1 weights streamed unstaged";
    }
    /** Keeps the touch loop's loads alive. */
    static volatile int touched;

    static final float E4M3_BIAS = 0x1p120f;
    static final float E5M2_BIAS = 0x1p112f;
    static final float F16_BIAS = 0x1p112f;

    private Matmul() {
    }

    private static VectorSpecies<Float> species(Integer bits) {
        if (bits == null) return FloatVector.SPECIES_PREFERRED;
        if (bits != 64 && bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("floe.cpu.vector-bits: " + bits + " is not 64, 128, 256 or 512");
        }
        return FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(bits));
    }

    /** Elements of this dtype in one 32-bit lane. */
    static int lanes(DType dtype) {
        return switch (dtype) {
            case F32 -> 1;
            case F16, BF16 -> 2;
            case F8_E4M3, F8_E5M2 -> 4;
            default -> throw new IllegalArgumentException("dtype " + dtype + " is not a weight dtype");
        };
    }

    /** Where element {@code e} of a row sits after {@link #permute}. */
    static int permuted(int e, int cols, int lanes) {
        int block = lanes * VL;
        int full = cols / block * block;
        if (e >= full || lanes == 1) return e;
        int b = e / block * block;
        int j = e - b;
        return b + (j % lanes) * VL + j / lanes;
    }

    /** Rearranges {@code rows} rows of {@code cols} activations so that stream k of each block is contiguous. */
    static void permute(float[] x, int rows, int cols, int lanes, float[] dst) {
        int block = lanes * VL;
        int full = cols / block * block;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int b = 0; b < full; b += block) {
                for (int k = 0; k < lanes; k++) {
                    int d = base + b + k * VL;
                    int s = base + b + k;
                    for (int i = 0; i < VL; i++) dst[d + i] = x[s + i * lanes];
                }
            }
            System.arraycopy(x, base + full, dst, base + full, cols - full);
        }
    }

    /** Per thread: the activations of one row block of a block-scaled weight, times that block's column scales. */
    private static final ThreadLocal<float[]> BLOCK_SCALED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Computes {@code out[r * outRows + o]} for output rows {@code o} in {@code [o0, o1)} and activation rows
     * {@code r} in {@code [0, rows)}, {@code xp} being the activations as {@link #permute} left them.
     *
     * <p>A block-scaled weight runs one block of output rows at a time: all its rows share the scales of each column
     * block, so those scales are folded into a copy of the activations ({@code rows x cols} multiplies per
     * {@code blockRows x rows x cols} multiply-adds) and the unscaled dot products run unchanged.
     */
    static void rows(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out) {
        ScaleLayout.Block b = w.block();
        if (b == null) {
            unscaledRows(w, xp, rows, o0, o1, out);
            return;
        }
        int cols = (int) w.cols();
        int[] colBlock = w.permutedColumnBlocks();
        float[] xs = BLOCK_SCALED.get();
        if (xs.length < rows * cols) {
            xs = new float[rows * cols];
            BLOCK_SCALED.set(xs);
        }
        for (int rb = o0 / b.rows(); (long) rb * b.rows() < o1; rb++) {
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                for (int p = 0; p < cols; p++) xs[base + p] = xp[base + p] * w.blockScale(rb, colBlock[p]);
            }
            unscaledRows(w, xs, rows, Math.max(o0, rb * b.rows()), Math.min(o1, (rb + 1) * b.rows()), out);
        }
    }

    /** {@link #rows} with at most a scale per row (applied after the dot product). */
    private static void unscaledRows(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out) {
        MemorySegment seg = w.data();
        int cols = (int) w.cols();
        int outRows = (int) w.rows();
        DType dtype = w.dtype();
        long[] special = w.specialRows();
        long rowBytes = (long) cols * dtype.bytes();
        int outBlock = (int) Math.max(4, Math.min(256, blockBytes / Math.max(1, rowBytes))) & ~3;
        boolean stage = stages(dtype, rows);
        int sink = 0;
        TileScratch tile = null;
        for (int ob = o0; ob < o1; ob += outBlock) {
            int oe = Math.min(o1, ob + outBlock);
            if (stage) sink += touch(seg, ob * rowBytes, (oe - ob) * rowBytes);
            if (rows >= 4) {
                if (tile == null) tile = TILE.get();
                for (int o = ob; o < oe; o += 4) tiles(w, seg, o, oe, cols, xp, rows, out, outRows, tile);
                continue;
            }
            int r = 0;
            for (; r < rows; r++) {
                int o = ob;
                if (dtype == DType.BF16) {
                    for (; o + 4 <= oe; o += 4) {
                        bf16Dot4Rows(seg, (long) o * cols * 2, cols, xp, r * cols, out, r * outRows + o);
                        if (w.scaled()) for (int q = 0; q < 4; q++) out[r * outRows + o + q] *= w.rowScale(o + q);
                    }
                }
                for (; o < oe; o++) {
                    long off = (long) o * cols * dtype.bytes();
                    int x0 = r * cols;
                    float y = switch (dtype) {
                        case F32 -> f32Dot(seg, off, cols, xp, x0);
                        case BF16 -> bf16Dot(seg, off, cols, xp, x0);
                        case F16 -> f16Dot(w, seg, o, cols, xp, x0);
                        case F8_E4M3 -> fp8Dot(w, seg, o, cols, xp, x0, 4, 0x87F00000, E4M3_BIAS);
                        case F8_E5M2 -> fp8Dot(w, seg, o, cols, xp, x0, 3, 0x8FE00000, E5M2_BIAS);
                        default -> throw new IllegalArgumentException("dtype " + dtype);
                    };
                    if (special != null && isSet(special, o)) y = scalarDot(w, o, cols, xp, x0, Matmul.lanes(dtype));
                    out[r * outRows + o] = w.scaled() ? y * w.rowScale(o) : y;
                }
            }
        }
        if (sink == 42) touched = sink;
    }

    /** Reads {@code bytes} bytes from {@code off} with one load per cache line, to bring them into the cache. */
    static int touch(MemorySegment s, long off, long bytes) {
        long step = IS.vectorByteSize();
        long end = off + bytes / (4 * step) * (4 * step);
        IntVector a0 = IntVector.zero(IS), a1 = a0, a2 = a0, a3 = a0;
        for (long o = off; o < end; o += 4 * step) {
            a0 = a0.or(IntVector.fromMemorySegment(IS, s, o, LE));
            a1 = a1.or(IntVector.fromMemorySegment(IS, s, o + step, LE));
            a2 = a2.or(IntVector.fromMemorySegment(IS, s, o + 2 * step, LE));
            a3 = a3.or(IntVector.fromMemorySegment(IS, s, o + 3 * step, LE));
        }
        return a0.or(a1).or(a2.or(a3)).reduceLanes(VectorOperators.OR);
    }

    // ---- F32

    static float f32Dot(MemorySegment w, long off, int cols, float[] x, int xo) {
        int full = cols / VL * VL;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * VL <= full; i += 4 * VL) {
            long b = off + 4L * i;
            a0 = FloatVector.fromMemorySegment(FS, w, b, LE).fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = FloatVector.fromMemorySegment(FS, w, b + 4L * VL, LE).fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
            a2 = FloatVector.fromMemorySegment(FS, w, b + 8L * VL, LE).fma(FloatVector.fromArray(FS, x, xo + i + 2 * VL), a2);
            a3 = FloatVector.fromMemorySegment(FS, w, b + 12L * VL, LE).fma(FloatVector.fromArray(FS, x, xo + i + 3 * VL), a3);
        }
        for (; i < full; i += VL) {
            a0 = FloatVector.fromMemorySegment(FS, w, off + 4L * i, LE).fma(FloatVector.fromArray(FS, x, xo + i), a0);
        }
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < cols; i++) s += w.get(F32, off + 4L * i) * x[xo + i];
        return s;
    }

    // ---- BF16: the low half of a lane is the even element, the high half the odd one

    static FloatVector bf16Lo(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static FloatVector bf16Hi(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    static float bf16Dot(MemorySegment w, long off, int cols, float[] x, int xo) {
        int block = 2 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 2 * block <= full; i += 2 * block) {
            long b = off + 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IS, w, b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, b + 4L * VL, LE);
            a0 = bf16Lo(v0).fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = bf16Hi(v0).fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
            a2 = bf16Lo(v1).fma(FloatVector.fromArray(FS, x, xo + i + 2 * VL), a2);
            a3 = bf16Hi(v1).fma(FloatVector.fromArray(FS, x, xo + i + 3 * VL), a3);
        }
        for (; i < full; i += block) {
            IntVector v0 = IntVector.fromMemorySegment(IS, w, off + 2L * i, LE);
            a0 = bf16Lo(v0).fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = bf16Hi(v0).fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
        }
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < cols; i++) s += FloatFormats.bf16ToFloat(w.get(I16, off + 2L * i)) * x[xo + i];
        return s;
    }

    /** Per thread: the vector sums of a 4 x 4 tile, and the four weight rows a tile decodes for its activation rows. */
    private static final class TileScratch {
        final float[] sums = new float[16 * VL];
        private float[] decoded = new float[0];

        float[] decoded(int floats) {
            if (decoded.length < floats) decoded = new float[floats];
            return decoded;
        }
    }

    private static final ThreadLocal<TileScratch> TILE = ThreadLocal.withInitial(TileScratch::new);

    /**
     * Weight rows {@code o..o+3} against activation rows {@code [0, tiled)} in tiles of four by four: {@code out[r *
     * outRows + o + k]}, row scales and special rows applied. Each weight vector is decoded once for four activation
     * rows and each activation vector loaded once for four weight rows: 8 to 12 loads per 32 multiply-adds where the
     * four-row dot products they replaced issued 9 per 8, so a tile runs at the multiply-add rate rather than the load
     * rate (twice those dot products' rate at 8-64 rows: the rows an expert receives in a batch, and medium passes). BF16 decodes in
     * the loop (two bit moves per 32 weights); F32, F16 and FP8 decode the four rows once into floats first, which every
     * block of activation rows then reads from L1.
     */
    private static void tiles(CpuWeight w, MemorySegment seg, int o, int oEnd, int cols, float[] x, int rows,
                              float[] out, int outRows, TileScratch scratch) {
        DType dtype = w.dtype();
        float[] sums = scratch.sums;
        int lanes = lanes(dtype);
        int full = cols / (lanes * VL) * (lanes * VL);
        float bias = switch (dtype) {
            case F8_E4M3 -> E4M3_BIAS;
            case F8_E5M2 -> E5M2_BIAS;
            case F16 -> F16_BIAS;
            default -> 1f;
        };
        // past the end of a range, a tile repeats its last row: every output is the same function of its two rows
        // in every tile, so neither the split into tasks nor the batch around a row changes its bits
        int last = oEnd - 1;
        long rowBytes = (long) cols * dtype.bytes();
        float[] decoded = null;
        if (dtype != DType.BF16) {
            decoded = scratch.decoded(4 * full);
            for (int k = 0; k < 4; k++) decodeRow(seg, Math.min(o + k, last) * rowBytes, full, dtype, decoded, k * full);
        }
        long[] special = w.specialRows();
        for (int r = 0; r < rows; r += 4) {
            int r1 = Math.min(r + 1, rows - 1), r2 = Math.min(r + 2, rows - 1), r3 = Math.min(r + 3, rows - 1);
            if (decoded == null) {
                bf16Tile4x4(seg, o * rowBytes, Math.min(o + 1, last) * rowBytes, Math.min(o + 2, last) * rowBytes,
                        Math.min(o + 3, last) * rowBytes, full, x, r * cols, r1 * cols, r2 * cols, r3 * cols, sums);
            } else {
                f32Tile4x4(decoded, full, x, r * cols, r1 * cols, r2 * cols, r3 * cols, sums);
            }
            for (int q = 0; q < 4; q++) {
                int xr = Math.min(r + q, rows - 1), xq = xr * cols;
                for (int k = 0; k < 4; k++) {
                    int wk = Math.min(o + k, last);
                    float s = Lanes.sum(FloatVector.fromArray(FS, sums, (q * 4 + k) * VL)) * bias;
                    long row = (long) wk * cols;
                    for (int i = full; i < cols; i++) s += FloatFormats.read(w.tensor(), row + i) * x[xq + i];
                    if (special != null && isSet(special, wk)) s = scalarDot(w, wk, cols, x, xq, lanes);
                    out[xr * outRows + wk] = w.scaled() ? s * w.rowScale(wk) : s;
                }
            }
        }
    }

    /** The first {@code full} elements of the F32, F16 or FP8 row at {@code off}, in permuted order, unbiased, into {@code d[at..]}. */
    private static void decodeRow(MemorySegment seg, long off, int full, DType dtype, float[] d, int at) {
        if (dtype == DType.F32) {
            for (int i = 0; i < full; i += VL) FloatVector.fromMemorySegment(FS, seg, off + 4L * i, LE).intoArray(d, at + i);
            return;
        }
        if (dtype == DType.F16) {
            for (int i = 0; i < full; i += 2 * VL) {
                IntVector v = IntVector.fromMemorySegment(IS, seg, off + 2L * i, LE);
                f16Lo(v).intoArray(d, at + i);
                f16Hi(v).intoArray(d, at + i + VL);
            }
            return;
        }
        int shift = dtype == DType.F8_E4M3 ? 4 : 3;
        int mask = dtype == DType.F8_E4M3 ? 0x87F00000 : 0x8FE00000;
        for (int i = 0; i < full; i += 4 * VL) {
            IntVector v = IntVector.fromMemorySegment(IS, seg, off + i, LE);
            IntVector odd = fp8Odd(v, shift), even = fp8Even(v, shift);
            fp8Low(even, mask).intoArray(d, at + i);
            fp8Low(odd, mask).intoArray(d, at + i + VL);
            fp8High(even, mask).intoArray(d, at + i + 2 * VL);
            fp8High(odd, mask).intoArray(d, at + i + 3 * VL);
        }
    }

    /** A 4 x 4 tile over four decoded weight rows ({@code d[k * full ..]}): the sums of {@link #bf16Tile4x4}. */
    static void f32Tile4x4(float[] d, int full, float[] x, int xo, int x1, int x2, int x3, float[] sums) {
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int i = 0; i < full; i += VL) {
            FloatVector w0 = FloatVector.fromArray(FS, d, i);
            FloatVector w1 = FloatVector.fromArray(FS, d, full + i);
            FloatVector w2 = FloatVector.fromArray(FS, d, 2 * full + i);
            FloatVector w3 = FloatVector.fromArray(FS, d, 3 * full + i);
            FloatVector xv = FloatVector.fromArray(FS, x, xo + i);
            c00 = w0.fma(xv, c00);
            c01 = w1.fma(xv, c01);
            c02 = w2.fma(xv, c02);
            c03 = w3.fma(xv, c03);
            xv = FloatVector.fromArray(FS, x, x1 + i);
            c10 = w0.fma(xv, c10);
            c11 = w1.fma(xv, c11);
            c12 = w2.fma(xv, c12);
            c13 = w3.fma(xv, c13);
            xv = FloatVector.fromArray(FS, x, x2 + i);
            c20 = w0.fma(xv, c20);
            c21 = w1.fma(xv, c21);
            c22 = w2.fma(xv, c22);
            c23 = w3.fma(xv, c23);
            xv = FloatVector.fromArray(FS, x, x3 + i);
            c30 = w0.fma(xv, c30);
            c31 = w1.fma(xv, c31);
            c32 = w2.fma(xv, c32);
            c33 = w3.fma(xv, c33);
        }
        c00.intoArray(sums, 0);
        c01.intoArray(sums, VL);
        c02.intoArray(sums, 2 * VL);
        c03.intoArray(sums, 3 * VL);
        c10.intoArray(sums, 4 * VL);
        c11.intoArray(sums, 5 * VL);
        c12.intoArray(sums, 6 * VL);
        c13.intoArray(sums, 7 * VL);
        c20.intoArray(sums, 8 * VL);
        c21.intoArray(sums, 9 * VL);
        c22.intoArray(sums, 10 * VL);
        c23.intoArray(sums, 11 * VL);
        c30.intoArray(sums, 12 * VL);
        c31.intoArray(sums, 13 * VL);
        c32.intoArray(sums, 14 * VL);
        c33.intoArray(sums, 15 * VL);
    }

    /** The vector sums of a BF16 tile: {@code sums[(q * 4 + k) * VL ..]} for activation row q and weight row k, over the full blocks. */
    static void bf16Tile4x4(MemorySegment w, long off0, long off1, long off2, long off3, int full, float[] x,
                            int xo, int x1, int x2, int x3, float[] sums) {
        int block = 2 * VL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int i = 0; i < full; i += block) {
            long b = 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IS, w, off0 + b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, off1 + b, LE);
            IntVector v2 = IntVector.fromMemorySegment(IS, w, off2 + b, LE);
            IntVector v3 = IntVector.fromMemorySegment(IS, w, off3 + b, LE);
            FloatVector w0 = bf16Lo(v0), w1 = bf16Lo(v1), w2 = bf16Lo(v2), w3 = bf16Lo(v3);
            FloatVector xv = FloatVector.fromArray(FS, x, xo + i);
            c00 = w0.fma(xv, c00);
            c01 = w1.fma(xv, c01);
            c02 = w2.fma(xv, c02);
            c03 = w3.fma(xv, c03);
            xv = FloatVector.fromArray(FS, x, x1 + i);
            c10 = w0.fma(xv, c10);
            c11 = w1.fma(xv, c11);
            c12 = w2.fma(xv, c12);
            c13 = w3.fma(xv, c13);
            xv = FloatVector.fromArray(FS, x, x2 + i);
            c20 = w0.fma(xv, c20);
            c21 = w1.fma(xv, c21);
            c22 = w2.fma(xv, c22);
            c23 = w3.fma(xv, c23);
            xv = FloatVector.fromArray(FS, x, x3 + i);
            c30 = w0.fma(xv, c30);
            c31 = w1.fma(xv, c31);
            c32 = w2.fma(xv, c32);
            c33 = w3.fma(xv, c33);
            w0 = bf16Hi(v0);
            w1 = bf16Hi(v1);
            w2 = bf16Hi(v2);
            w3 = bf16Hi(v3);
            xv = FloatVector.fromArray(FS, x, xo + i + VL);
            c00 = w0.fma(xv, c00);
            c01 = w1.fma(xv, c01);
            c02 = w2.fma(xv, c02);
            c03 = w3.fma(xv, c03);
            xv = FloatVector.fromArray(FS, x, x1 + i + VL);
            c10 = w0.fma(xv, c10);
            c11 = w1.fma(xv, c11);
            c12 = w2.fma(xv, c12);
            c13 = w3.fma(xv, c13);
            xv = FloatVector.fromArray(FS, x, x2 + i + VL);
            c20 = w0.fma(xv, c20);
            c21 = w1.fma(xv, c21);
            c22 = w2.fma(xv, c22);
            c23 = w3.fma(xv, c23);
            xv = FloatVector.fromArray(FS, x, x3 + i + VL);
            c30 = w0.fma(xv, c30);
            c31 = w1.fma(xv, c31);
            c32 = w2.fma(xv, c32);
            c33 = w3.fma(xv, c33);
        }
        c00.intoArray(sums, 0);
        c01.intoArray(sums, VL);
        c02.intoArray(sums, 2 * VL);
        c03.intoArray(sums, 3 * VL);
        c10.intoArray(sums, 4 * VL);
        c11.intoArray(sums, 5 * VL);
        c12.intoArray(sums, 6 * VL);
        c13.intoArray(sums, 7 * VL);
        c20.intoArray(sums, 8 * VL);
        c21.intoArray(sums, 9 * VL);
        c22.intoArray(sums, 10 * VL);
        c23.intoArray(sums, 11 * VL);
        c30.intoArray(sums, 12 * VL);
        c31.intoArray(sums, 13 * VL);
        c32.intoArray(sums, 14 * VL);
        c33.intoArray(sums, 15 * VL);
    }

    /** Four consecutive weight rows against one activation row: four memory streams in flight. */
    static void bf16Dot4Rows(MemorySegment w, long off, int cols, float[] x, int xo, float[] out, int oi) {
        int block = 2 * VL;
        int full = cols / block * block;
        long rb = 2L * cols;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0;
        for (; i < full; i += block) {
            long b = off + 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IS, w, b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, b + rb, LE);
            IntVector v2 = IntVector.fromMemorySegment(IS, w, b + 2 * rb, LE);
            IntVector v3 = IntVector.fromMemorySegment(IS, w, b + 3 * rb, LE);
            FloatVector xl = FloatVector.fromArray(FS, x, xo + i), xh = FloatVector.fromArray(FS, x, xo + i + VL);
            a0 = bf16Lo(v0).fma(xl, a0);
            b0 = bf16Hi(v0).fma(xh, b0);
            a1 = bf16Lo(v1).fma(xl, a1);
            b1 = bf16Hi(v1).fma(xh, b1);
            a2 = bf16Lo(v2).fma(xl, a2);
            b2 = bf16Hi(v2).fma(xh, b2);
            a3 = bf16Lo(v3).fma(xl, a3);
            b3 = bf16Hi(v3).fma(xh, b3);
        }
        float s0 = Lanes.sum(a0.add(b0)), s1 = Lanes.sum(a1.add(b1));
        float s2 = Lanes.sum(a2.add(b2)), s3 = Lanes.sum(a3.add(b3));
        for (; i < cols; i++) {
            float xv = x[xo + i];
            s0 += FloatFormats.bf16ToFloat(w.get(I16, off + 2L * i)) * xv;
            s1 += FloatFormats.bf16ToFloat(w.get(I16, off + rb + 2L * i)) * xv;
            s2 += FloatFormats.bf16ToFloat(w.get(I16, off + 2 * rb + 2L * i)) * xv;
            s3 += FloatFormats.bf16ToFloat(w.get(I16, off + 3 * rb + 2L * i)) * xv;
        }
        out[oi] = s0;
        out[oi + 1] = s1;
        out[oi + 2] = s2;
        out[oi + 3] = s3;
    }

    // ---- F16: sign and 15 magnitude bits land in a float32 2^112 too small; exponent 31 (inf, NaN) rows are found by scanSpecialRows

    static FloatVector f16Lo(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats();
    }

    static FloatVector f16Hi(IntVector v) {
        return v.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats();
    }

    static float f16Dot(CpuWeight cw, MemorySegment w, int o, int cols, float[] x, int xo) {
        long off = (long) o * cols * 2;
        int block = 2 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0;
        int i = 0;
        for (; i < full; i += block) {
            IntVector v = IntVector.fromMemorySegment(IS, w, off + 2L * i, LE);
            a0 = f16Lo(v).fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = f16Hi(v).fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
        }
        float s = Lanes.sum(a0.add(a1)) * F16_BIAS;
        for (; i < cols; i++) s += FloatFormats.f16ToFloat(w.get(I16, off + 2L * i)) * x[xo + i];
        return s;
    }

    // ---- FP8: byte k of a lane is moved to the top, then an arithmetic shift spreads sign and magnitude into place

    // Helpers stay under 35 bytes of bytecode so that C2 always inlines them: a vector crossing a call is boxed.
    //
    // An arithmetic shift of the 16-bit halves by 4 (E4M3) or 3 (E5M2) spreads the high byte of each half into
    // sign | exponent | mantissa position of a float's upper 16 bits; the high half is then masked in place and the
    // low half shifted up first. Shifting the lane left by 8 beforehand does the same for the two low bytes.

    /** Halves shifted right arithmetically: the odd bytes in place. */
    static IntVector fp8Odd(IntVector v, int shift) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.ASHR, shift).reinterpretAsInts();
    }

    /**
     * The even bytes in place. Each is first moved to the high byte of its 16-bit half: by a 32-bit shift with 32
     * vector registers (AVX-512), by a 16-bit multiply by 256 with 16 (AVX2), which gives the same bits where they
     * are used and runs beside the FMAs rather than on Zen 1's one shift pipe, the bound of FP8 decoding there
     * (JMH from L2: 92.5 against 81.1 thousand rows of 2048 per second).
     */
    static IntVector fp8Even(IntVector v, int shift) {
        IntVector up = WIDE ? v.lanewise(VectorOperators.LSHL, 8) : v.reinterpretAsShorts().mul((short) 256).reinterpretAsInts();
        return up.reinterpretAsShorts().lanewise(VectorOperators.ASHR, shift).reinterpretAsInts();
    }

    /** The float of the high half's byte. */
    static FloatVector fp8High(IntVector t, int mask) {
        return t.and(mask).reinterpretAsFloats();
    }

    /** The float of the low half's byte. */
    static FloatVector fp8Low(IntVector t, int mask) {
        return t.lanewise(VectorOperators.LSHL, 16).and(mask).reinterpretAsFloats();
    }

    static float fp8Dot(CpuWeight cw, MemorySegment w, int o, int cols, float[] x, int xo,
                        int shift, int mask, float bias) {
        long off = (long) o * cols;
        int block = 4 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i < full; i += block) {
            IntVector v = IntVector.fromMemorySegment(IS, w, off + i, LE);
            IntVector odd = fp8Odd(v, shift), even = fp8Even(v, shift);
            a0 = fp8Low(even, mask).fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = fp8Low(odd, mask).fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
            a2 = fp8High(even, mask).fma(FloatVector.fromArray(FS, x, xo + i + 2 * VL), a2);
            a3 = fp8High(odd, mask).fma(FloatVector.fromArray(FS, x, xo + i + 3 * VL), a3);
        }
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3))) * bias;
        for (; i < cols; i++) s += FloatFormats.read(cw.tensor(), off + i) * x[xo + i];
        return s;
    }

    static boolean isSet(long[] bits, int i) {
        return (bits[i >>> 6] & (1L << i)) != 0;
    }

    /**
     * The rows of an F16 or FP8 weight holding a code that the bit-trick decoders cannot represent (E4M3 NaN, E5M2 and
     * F16 infinities and NaN), as a bit set, or null if there are none (or the dtype decodes exactly). Computed once
     * per weight, so that the hot loops need no per-element check.
     */
    static long[] scanSpecialRows(CpuWeight w, WorkerPool pool) {
        DType dtype = w.dtype();
        int mask, add, test;
        switch (dtype) {
            case F16 -> { mask = 0x7C007C00; add = 0x04000400; test = 0x80008000; }
            case F8_E4M3 -> { mask = 0x7F7F7F7F; add = 0x01010101; test = 0x80808080; }
            case F8_E5M2 -> { mask = 0x7F7F7F7F; add = 0x04040404; test = 0x80808080; }
            default -> { return null; }
        }
        MemorySegment seg = w.data();
        int rows = (int) w.rows();
        int cols = (int) w.cols();
        long rowBytes = (long) cols * dtype.bytes();
        long[] bits = new long[(rows + 63) >>> 6];
        int words = bits.length;
        int tasks = rowBytes * rows < (1 << 20) ? 1 : Math.min(words, pool.threads() * 4);
        int per = (words + tasks - 1) / tasks;
        pool.run(tasks, t -> {
            for (int word = t * per; word < Math.min(words, (t + 1) * per); word++) {
                long acc = 0;
                for (int r = word << 6; r < Math.min(rows, (word + 1) << 6); r++) {
                    if (special(seg, (long) r * rowBytes, rowBytes, mask, add, test, w, (long) r * cols, dtype)) {
                        acc |= 1L << r;
                    }
                }
                bits[word] = acc;
            }
        });
        for (long b : bits) if (b != 0) return bits;
        return null;
    }

    private static boolean special(MemorySegment seg, long off, long bytes, int mask, int add, int test, CpuWeight w,
                                   long firstElement, DType dtype) {
        long step = IS.vectorByteSize();
        long full = bytes / step * step;
        IntVector flags = IntVector.zero(IS);
        for (long i = 0; i < full; i += step) {
            flags = flags.or(IntVector.fromMemorySegment(IS, seg, off + i, LE).and(mask).add(add));
        }
        if (flags.and(test).reduceLanes(VectorOperators.OR) != 0) return true;
        for (long e = full / dtype.bytes(); e < bytes / dtype.bytes(); e++) {
            if (!Float.isFinite(FloatFormats.read(w.tensor(), firstElement + e))) return true;
        }
        return false;
    }

    /** The unscaled dot product of weight row {@code o} in plain scalar code (rows holding inf or NaN codes). */
    static float scalarDot(CpuWeight cw, int o, int cols, float[] x, int xo, int lanes) {
        long base = (long) o * cols;
        float s = 0;
        for (int e = 0; e < cols; e++) {
            s += FloatFormats.read(cw.tensor(), base + e) * x[xo + permuted(e, cols, lanes)];
        }
        return s;
    }
}
