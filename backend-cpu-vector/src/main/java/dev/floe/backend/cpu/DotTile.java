package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dot products of BF16 weights for a handful of activation rows (4 up to {@link Gemm#minRows}: the rows an expert
 * receives in a batched decode pass), four activation rows by four weight rows at a time. {@link Matmul}'s four-row
 * kernel loads eight activation vectors for every weight vector it decodes (eight multiply-adds), so it runs at the
 * rate of the loads; this tile decodes four weight vectors against the same eight activation vectors for 32
 * multiply-adds, and the GEMM's panel decode (transposing stores) would cost more than it saves for so few rows.
 *
 * <p>Output {@code (r, o)} is one accumulator per lane (the even element's multiply-add, then the odd one's, along the
 * columns), summed by {@link Lanes#sum}, plus the tail past the last full block in order, then scaled by the row's
 * scale: the same code for a row whatever the other rows of its batch and tile, the thread count and the task split
 * (partial tiles included), so a row gives the same bits in any batch of 4 to {@code Gemm.minRows - 1} rows.
 */
final class DotTile {
    private static final int VL = Matmul.VL;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private DotTile() {
    }

    /** Whether this tile computes {@code rows} rows of {@code w}: BF16 without block scales, four rows or more. */
    static boolean applies(CpuWeight w, int rows) {
        return rows >= 4 && w.dtype() == DType.BF16 && w.block() == null;
    }

    /**
     * {@code out[r * w.rows() + o]} for output rows {@code o} in {@code [o0, o1)} and activation rows {@code r} in
     * {@code [0, rows)}, {@code xp} being the activations as {@link Matmul#permute} left them.
     */
    static void rows(CpuWeight w, float[] xp, int rows, int o0, int o1, float[] out) {
        MemorySegment seg = w.data();
        int cols = (int) w.cols();
        int outRows = (int) w.rows();
        for (int o = o0; o < o1; o += 4) {
            int qn = Math.min(4, o1 - o);
            for (int r = 0; r < rows; r += 4) {
                tile(seg, (long) o * cols * 2, qn, cols, xp, r * cols, Math.min(4, rows - r), out, r * outRows + o, outRows);
            }
            if (w.scaled()) {
                for (int r = 0; r < rows; r++) {
                    for (int q = 0; q < qn; q++) out[r * outRows + o + q] *= w.rowScale(o + q);
                }
            }
        }
    }

    /**
     * Activation rows {@code xo, xo + cols, ..} ({@code rn} of them, at most four) against weight rows at
     * {@code off, off + 2 cols, ..} ({@code qn}, at most four): output {@code (r, q)} to {@code out[oi + r * stride + q]}.
     * A partial tile repeats its last row in the missing places and does not store them, so that every output comes
     * from the same code wherever its rows fall (at the end of a batch or of a task's share of the weight rows).
     */
    static void tile(MemorySegment w, long off, int qn, int cols, float[] x, int xo, int rn, float[] out, int oi, int stride) {
        var fs = Matmul.FS;
        int block = 2 * VL;
        int full = cols / block * block;
        long rb = 2L * cols;
        long w1 = off + Math.min(1, qn - 1) * rb, w2 = off + Math.min(2, qn - 1) * rb, w3 = off + Math.min(3, qn - 1) * rb;
        int x1 = xo + Math.min(1, rn - 1) * cols, x2 = xo + Math.min(2, rn - 1) * cols, x3 = xo + Math.min(3, rn - 1) * cols;
        FloatVector z = FloatVector.zero(fs);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int i = 0; i < full; i += block) {
            FloatVector l0 = FloatVector.fromArray(fs, x, xo + i), h0 = FloatVector.fromArray(fs, x, xo + i + VL);
            FloatVector l1 = FloatVector.fromArray(fs, x, x1 + i), h1 = FloatVector.fromArray(fs, x, x1 + i + VL);
            FloatVector l2 = FloatVector.fromArray(fs, x, x2 + i), h2 = FloatVector.fromArray(fs, x, x2 + i + VL);
            FloatVector l3 = FloatVector.fromArray(fs, x, x3 + i), h3 = FloatVector.fromArray(fs, x, x3 + i + VL);
            IntVector v = IntVector.fromMemorySegment(Matmul.IS, w, off + 2L * i, LE);
            FloatVector lo = Matmul.bf16Lo(v), hi = Matmul.bf16Hi(v);
            c00 = hi.fma(h0, lo.fma(l0, c00));
            c10 = hi.fma(h1, lo.fma(l1, c10));
            c20 = hi.fma(h2, lo.fma(l2, c20));
            c30 = hi.fma(h3, lo.fma(l3, c30));
            v = IntVector.fromMemorySegment(Matmul.IS, w, w1 + 2L * i, LE);
            lo = Matmul.bf16Lo(v);
            hi = Matmul.bf16Hi(v);
            c01 = hi.fma(h0, lo.fma(l0, c01));
            c11 = hi.fma(h1, lo.fma(l1, c11));
            c21 = hi.fma(h2, lo.fma(l2, c21));
            c31 = hi.fma(h3, lo.fma(l3, c31));
            v = IntVector.fromMemorySegment(Matmul.IS, w, w2 + 2L * i, LE);
            lo = Matmul.bf16Lo(v);
            hi = Matmul.bf16Hi(v);
            c02 = hi.fma(h0, lo.fma(l0, c02));
            c12 = hi.fma(h1, lo.fma(l1, c12));
            c22 = hi.fma(h2, lo.fma(l2, c22));
            c32 = hi.fma(h3, lo.fma(l3, c32));
            v = IntVector.fromMemorySegment(Matmul.IS, w, w3 + 2L * i, LE);
            lo = Matmul.bf16Lo(v);
            hi = Matmul.bf16Hi(v);
            c03 = hi.fma(h0, lo.fma(l0, c03));
            c13 = hi.fma(h1, lo.fma(l1, c13));
            c23 = hi.fma(h2, lo.fma(l2, c23));
            c33 = hi.fma(h3, lo.fma(l3, c33));
        }
        store(out, oi, qn, Lanes.sum(c00), Lanes.sum(c01), Lanes.sum(c02), Lanes.sum(c03));
        if (rn > 1) store(out, oi + stride, qn, Lanes.sum(c10), Lanes.sum(c11), Lanes.sum(c12), Lanes.sum(c13));
        if (rn > 2) store(out, oi + 2 * stride, qn, Lanes.sum(c20), Lanes.sum(c21), Lanes.sum(c22), Lanes.sum(c23));
        if (rn > 3) store(out, oi + 3 * stride, qn, Lanes.sum(c30), Lanes.sum(c31), Lanes.sum(c32), Lanes.sum(c33));
        for (int q = 0; q < qn; q++) {
            for (int r = 0; r < rn; r++) {
                float s = out[oi + r * stride + q];
                for (int i = full; i < cols; i++) {
                    s += FloatFormats.bf16ToFloat(w.get(I16, off + q * rb + 2L * i)) * x[xo + r * cols + i];
                }
                out[oi + r * stride + q] = s;
            }
        }
    }

    /** The first {@code n} of four sums of one activation row. */
    private static void store(float[] out, int at, int n, float a, float b, float c, float d) {
        out[at] = a;
        if (n > 1) out[at + 1] = b;
        if (n > 2) out[at + 2] = c;
        if (n > 3) out[at + 3] = d;
    }
}
