package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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
 * Elements past the last full block (the tail) are computed with {@link FloatFormats}, in the original order.
 *
 * <p>FP8 and F16 are decoded by moving their sign, exponent and mantissa bits into a float32 whose exponent is too
 * small by a fixed bias ({@code 2^120} for E4M3, {@code 2^112} for E5M2 and F16); that power of two is applied once
 * per row. Codes the bit trick cannot represent (E4M3 NaN, E5M2/F16 infinities and NaN) are found once per weight
 * ({@link #scanSpecialRows}); those rows are recomputed in scalar code, which yields the IEEE result.
 */
final class Matmul {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    static final int VL = FS.length();
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
    /** Keeps the touch loop's loads alive. */
    static volatile int touched;

    static final float E4M3_BIAS = 0x1p120f;
    static final float E5M2_BIAS = 0x1p112f;
    static final float F16_BIAS = 0x1p112f;

    private Matmul() {
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
        boolean stage = staged;
        int sink = 0;
        for (int ob = o0; ob < o1; ob += outBlock) {
            int oe = Math.min(o1, ob + outBlock);
            if (stage) sink += touch(seg, ob * rowBytes, (oe - ob) * rowBytes);
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                for (int o = ob; o < oe; o++) {
                    long off = (long) o * cols * dtype.bytes();
                    int x0 = r * cols;
                    switch (dtype) {
                        case F32 -> f32Dot4(seg, off, cols, xp, x0, out, r * outRows + o, outRows);
                        case BF16 -> bf16Dot4(seg, off, cols, xp, x0, out, r * outRows + o, outRows);
                        case F16 -> f16Dot4(w, seg, o, cols, xp, x0, out, r * outRows + o, outRows);
                        case F8_E4M3 -> fp8Dot4(w, seg, o, cols, xp, x0, 4, 0x87F00000, E4M3_BIAS,
                                out, r * outRows + o, outRows);
                        case F8_E5M2 -> fp8Dot4(w, seg, o, cols, xp, x0, 3, 0x8FE00000, E5M2_BIAS,
                                out, r * outRows + o, outRows);
                        default -> throw new IllegalArgumentException("dtype " + dtype);
                    }
                    if (special != null && isSet(special, o)) {
                        for (int q = 0; q < 4; q++) {
                            out[(r + q) * outRows + o] = scalarDot(w, o, cols, xp, (r + q) * cols, Matmul.lanes(dtype));
                        }
                    }
                    if (w.scaled()) {
                        float s = w.rowScale(o);
                        for (int q = 0; q < 4; q++) out[(r + q) * outRows + o] *= s;
                    }
                }
            }
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

    static void f32Dot4(MemorySegment w, long off, int cols, float[] x, int xo, float[] out, int oi, int stride) {
        int full = cols / VL * VL;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        int i = 0;
        for (; i < full; i += VL) {
            FloatVector v = FloatVector.fromMemorySegment(FS, w, off + 4L * i, LE);
            a0 = v.fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = v.fma(FloatVector.fromArray(FS, x, x1 + i), a1);
            a2 = v.fma(FloatVector.fromArray(FS, x, x2 + i), a2);
            a3 = v.fma(FloatVector.fromArray(FS, x, x3 + i), a3);
        }
        float s0 = Lanes.sum(a0), s1 = Lanes.sum(a1);
        float s2 = Lanes.sum(a2), s3 = Lanes.sum(a3);
        for (; i < cols; i++) {
            float v = w.get(F32, off + 4L * i);
            s0 += v * x[xo + i];
            s1 += v * x[x1 + i];
            s2 += v * x[x2 + i];
            s3 += v * x[x3 + i];
        }
        out[oi] = s0;
        out[oi + stride] = s1;
        out[oi + 2 * stride] = s2;
        out[oi + 3 * stride] = s3;
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

    static void bf16Dot4(MemorySegment w, long off, int cols, float[] x, int xo, float[] out, int oi, int stride) {
        int block = 2 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        int i = 0;
        for (; i < full; i += block) {
            IntVector v = IntVector.fromMemorySegment(IS, w, off + 2L * i, LE);
            FloatVector lo = bf16Lo(v), hi = bf16Hi(v);
            a0 = lo.fma(FloatVector.fromArray(FS, x, xo + i), a0);
            b0 = hi.fma(FloatVector.fromArray(FS, x, xo + i + VL), b0);
            a1 = lo.fma(FloatVector.fromArray(FS, x, x1 + i), a1);
            b1 = hi.fma(FloatVector.fromArray(FS, x, x1 + i + VL), b1);
            a2 = lo.fma(FloatVector.fromArray(FS, x, x2 + i), a2);
            b2 = hi.fma(FloatVector.fromArray(FS, x, x2 + i + VL), b2);
            a3 = lo.fma(FloatVector.fromArray(FS, x, x3 + i), a3);
            b3 = hi.fma(FloatVector.fromArray(FS, x, x3 + i + VL), b3);
        }
        float s0 = Lanes.sum(a0.add(b0)), s1 = Lanes.sum(a1.add(b1));
        float s2 = Lanes.sum(a2.add(b2)), s3 = Lanes.sum(a3.add(b3));
        for (; i < cols; i++) {
            float v = FloatFormats.bf16ToFloat(w.get(I16, off + 2L * i));
            s0 += v * x[xo + i];
            s1 += v * x[x1 + i];
            s2 += v * x[x2 + i];
            s3 += v * x[x3 + i];
        }
        out[oi] = s0;
        out[oi + stride] = s1;
        out[oi + 2 * stride] = s2;
        out[oi + 3 * stride] = s3;
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

    static void f16Dot4(CpuWeight cw, MemorySegment w, int o, int cols, float[] x, int xo, float[] out, int oi, int stride) {
        long off = (long) o * cols * 2;
        int block = 2 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        int i = 0;
        for (; i < full; i += block) {
            IntVector v = IntVector.fromMemorySegment(IS, w, off + 2L * i, LE);
            FloatVector lo = f16Lo(v), hi = f16Hi(v);
            a0 = lo.fma(FloatVector.fromArray(FS, x, xo + i), a0);
            b0 = hi.fma(FloatVector.fromArray(FS, x, xo + i + VL), b0);
            a1 = lo.fma(FloatVector.fromArray(FS, x, x1 + i), a1);
            b1 = hi.fma(FloatVector.fromArray(FS, x, x1 + i + VL), b1);
            a2 = lo.fma(FloatVector.fromArray(FS, x, x2 + i), a2);
            b2 = hi.fma(FloatVector.fromArray(FS, x, x2 + i + VL), b2);
            a3 = lo.fma(FloatVector.fromArray(FS, x, x3 + i), a3);
            b3 = hi.fma(FloatVector.fromArray(FS, x, x3 + i + VL), b3);
        }
        float s0 = Lanes.sum(a0.add(b0)) * F16_BIAS;
        float s1 = Lanes.sum(a1.add(b1)) * F16_BIAS;
        float s2 = Lanes.sum(a2.add(b2)) * F16_BIAS;
        float s3 = Lanes.sum(a3.add(b3)) * F16_BIAS;
        for (; i < cols; i++) {
            float v = FloatFormats.f16ToFloat(w.get(I16, off + 2L * i));
            s0 += v * x[xo + i];
            s1 += v * x[x1 + i];
            s2 += v * x[x2 + i];
            s3 += v * x[x3 + i];
        }
        out[oi] = s0;
        out[oi + stride] = s1;
        out[oi + 2 * stride] = s2;
        out[oi + 3 * stride] = s3;
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

    /** The even bytes in place. */
    static IntVector fp8Even(IntVector v, int shift) {
        return v.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, shift).reinterpretAsInts();
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

    static void fp8Dot4(CpuWeight cw, MemorySegment w, int o, int cols, float[] x, int xo,
                        int shift, int mask, float bias, float[] out, int oi, int stride) {
        long off = (long) o * cols;
        int block = 4 * VL;
        int full = cols / block * block;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        FloatVector d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        int x1 = xo + cols, x2 = x1 + cols, x3 = x2 + cols;
        int i = 0;
        for (; i < full; i += block) {
            IntVector v = IntVector.fromMemorySegment(IS, w, off + i, LE);
            IntVector odd = fp8Odd(v, shift), even = fp8Even(v, shift);
            FloatVector w0 = fp8Low(even, mask), w1 = fp8Low(odd, mask);
            FloatVector w2 = fp8High(even, mask), w3 = fp8High(odd, mask);
            a0 = w0.fma(FloatVector.fromArray(FS, x, xo + i), a0);
            a1 = w1.fma(FloatVector.fromArray(FS, x, xo + i + VL), a1);
            a2 = w2.fma(FloatVector.fromArray(FS, x, xo + i + 2 * VL), a2);
            a3 = w3.fma(FloatVector.fromArray(FS, x, xo + i + 3 * VL), a3);
            b0 = w0.fma(FloatVector.fromArray(FS, x, x1 + i), b0);
            b1 = w1.fma(FloatVector.fromArray(FS, x, x1 + i + VL), b1);
            b2 = w2.fma(FloatVector.fromArray(FS, x, x1 + i + 2 * VL), b2);
            b3 = w3.fma(FloatVector.fromArray(FS, x, x1 + i + 3 * VL), b3);
            c0 = w0.fma(FloatVector.fromArray(FS, x, x2 + i), c0);
            c1 = w1.fma(FloatVector.fromArray(FS, x, x2 + i + VL), c1);
            c2 = w2.fma(FloatVector.fromArray(FS, x, x2 + i + 2 * VL), c2);
            c3 = w3.fma(FloatVector.fromArray(FS, x, x2 + i + 3 * VL), c3);
            d0 = w0.fma(FloatVector.fromArray(FS, x, x3 + i), d0);
            d1 = w1.fma(FloatVector.fromArray(FS, x, x3 + i + VL), d1);
            d2 = w2.fma(FloatVector.fromArray(FS, x, x3 + i + 2 * VL), d2);
            d3 = w3.fma(FloatVector.fromArray(FS, x, x3 + i + 3 * VL), d3);
        }
        float s0 = Lanes.sum(a0.add(a1).add(a2.add(a3))) * bias;
        float s1 = Lanes.sum(b0.add(b1).add(b2.add(b3))) * bias;
        float s2 = Lanes.sum(c0.add(c1).add(c2.add(c3))) * bias;
        float s3 = Lanes.sum(d0.add(d1).add(d2.add(d3))) * bias;
        for (; i < cols; i++) {
            float v = FloatFormats.read(cw.tensor(), off + i);
            s0 += v * x[xo + i];
            s1 += v * x[x1 + i];
            s2 += v * x[x2 + i];
            s3 += v * x[x3 + i];
        }
        out[oi] = s0;
        out[oi + stride] = s1;
        out[oi + 2 * stride] = s2;
        out[oi + 3 * stride] = s3;
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
