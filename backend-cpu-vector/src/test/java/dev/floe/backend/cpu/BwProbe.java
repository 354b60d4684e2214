package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Locale;

/** Scratch: where does the BF16 kernel lose memory bandwidth? One thread, 1 GB of [5632 x 2048] BF16. */
public final class BwProbe {
    static final int ROWS = 5632, COLS = 2048;

    public static void main(String[] args) throws Exception {
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(1, "p")) {
            MemorySegment[] segs = new MemorySegment[44];
            CpuWeight[] ws = new CpuWeight[segs.length];
            for (int i = 0; i < segs.length; i++) {
                segs[i] = arena.allocate((long) ROWS * COLS * 2, 64);
                segs[i].fill((byte) 1);
                ws[i] = new CpuWeight(new TensorData("w", DType.BF16, new long[]{ROWS, COLS}, segs[i], null));
            }
            float[] sink = new float[64];
            float[] x = new float[COLS];
            float[] out = new float[ROWS];
            for (int rep = 0; rep < 4; rep++) {
                time("sum kernel", segs, () -> { for (MemorySegment s : segs) MemoryBandwidth.read(pool, s, sink); });
                time("bf16Dot 1 row", segs, () -> {
                    for (MemorySegment s : segs) for (int o = 0; o < ROWS; o++) out[o] = Matmul.bf16Dot(s, (long) o * COLS * 2, COLS, x, 0);
                });
                for (long ahead : new long[]{8192, 16384}) {
                    for (int lines : new int[]{1, 2, 4, 8, 16}) {
                        time("touch " + ahead + " x" + lines, segs, () -> {
                            for (MemorySegment s : segs) {
                                long lim = s.byteSize() - 4;
                                for (int o = 0; o < ROWS; o++) {
                                    long off = (long) o * COLS * 2;
                                    int t = 0;
                                    for (int l = 0; l < lines; l++) {
                                        t += s.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, Math.min(lim, off + ahead + 64L * l));
                                    }
                                    sinkInt += t;
                                    out[o] = Matmul.bf16Dot(s, off, COLS, x, 0);
                                }
                            }
                        });
                    }
                }
            }
        }
    }

    static int sinkInt;

    static float big0(MemorySegment s, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector c = FloatVector.broadcast(FS, 1.5f);
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 256) {
                    a0 = a0.add(FloatVector.fromMemorySegment(FS, s, o, LE));
                    a1 = a1.add(FloatVector.fromMemorySegment(FS, s, o + 64, LE));
                    a2 = a2.add(FloatVector.fromMemorySegment(FS, s, o + 128, LE));
                    a3 = a3.add(FloatVector.fromMemorySegment(FS, s, o + 192, LE));
            xi = (xi + 128) & (COLS - 1);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float big1(MemorySegment s, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector c = FloatVector.broadcast(FS, 1.5f);
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 256) {
                    a0 = FloatVector.fromMemorySegment(FS, s, o, LE).fma(c, a0);
                    a1 = FloatVector.fromMemorySegment(FS, s, o + 64, LE).fma(c, a1);
                    a2 = FloatVector.fromMemorySegment(FS, s, o + 128, LE).fma(c, a2);
                    a3 = FloatVector.fromMemorySegment(FS, s, o + 192, LE).fma(c, a3);
            xi = (xi + 128) & (COLS - 1);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float big2(MemorySegment s, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector c = FloatVector.broadcast(FS, 1.5f);
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 256) {
                    a0 = FloatVector.fromMemorySegment(FS, s, o, LE).fma(FloatVector.fromArray(FS, x, xi), a0);
                    a1 = FloatVector.fromMemorySegment(FS, s, o + 64, LE).fma(FloatVector.fromArray(FS, x, xi + 16), a1);
                    a2 = FloatVector.fromMemorySegment(FS, s, o + 128, LE).fma(FloatVector.fromArray(FS, x, xi + 32), a2);
                    a3 = FloatVector.fromMemorySegment(FS, s, o + 192, LE).fma(FloatVector.fromArray(FS, x, xi + 48), a3);
            xi = (xi + 128) & (COLS - 1);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float big3(MemorySegment s, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector c = FloatVector.broadcast(FS, 1.5f);
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 256) {
                    IntVector v0 = IntVector.fromMemorySegment(IS, s, o, LE);
                    IntVector v1 = IntVector.fromMemorySegment(IS, s, o + 64, LE);
                    IntVector v2 = IntVector.fromMemorySegment(IS, s, o + 128, LE);
                    IntVector v3 = IntVector.fromMemorySegment(IS, s, o + 192, LE);
                    a0 = lo(v0).fma(c, a0); a1 = hi(v0).fma(c, a1);
                    a2 = lo(v1).fma(c, a2); a3 = hi(v1).fma(c, a3);
                    a4 = lo(v2).fma(c, a4); a5 = hi(v2).fma(c, a5);
                    a6 = lo(v3).fma(c, a6); a7 = hi(v3).fma(c, a7);
            xi = (xi + 128) & (COLS - 1);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float big4(MemorySegment s, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector c = FloatVector.broadcast(FS, 1.5f);
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 256) {
                    IntVector v0 = IntVector.fromMemorySegment(IS, s, o, LE);
                    IntVector v1 = IntVector.fromMemorySegment(IS, s, o + 64, LE);
                    IntVector v2 = IntVector.fromMemorySegment(IS, s, o + 128, LE);
                    IntVector v3 = IntVector.fromMemorySegment(IS, s, o + 192, LE);
                    a0 = lo(v0).fma(FloatVector.fromArray(FS, x, xi), a0); a1 = hi(v0).fma(FloatVector.fromArray(FS, x, xi + 16), a1);
                    a2 = lo(v1).fma(FloatVector.fromArray(FS, x, xi + 32), a2); a3 = hi(v1).fma(FloatVector.fromArray(FS, x, xi + 48), a3);
                    a4 = lo(v2).fma(FloatVector.fromArray(FS, x, xi + 64), a4); a5 = hi(v2).fma(FloatVector.fromArray(FS, x, xi + 80), a5);
                    a6 = lo(v3).fma(FloatVector.fromArray(FS, x, xi + 96), a6); a7 = hi(v3).fma(FloatVector.fromArray(FS, x, xi + 112), a7);
            xi = (xi + 128) & (COLS - 1);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static FloatVector lo(IntVector v) { return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(); }
    static FloatVector hi(IntVector v) { return v.and(0xFFFF0000).reinterpretAsFloats(); }

    static float dot4(MemorySegment w, long off, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < COLS; i += 128) {
            long b = off + 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IS, w, b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, b + 64, LE);
            IntVector v2 = IntVector.fromMemorySegment(IS, w, b + 128, LE);
            IntVector v3 = IntVector.fromMemorySegment(IS, w, b + 192, LE);
            a0 = lo(v0).fma(FloatVector.fromArray(FS, x, i), a0);
            a1 = hi(v0).fma(FloatVector.fromArray(FS, x, i + 16), a1);
            a2 = lo(v1).fma(FloatVector.fromArray(FS, x, i + 32), a2);
            a3 = hi(v1).fma(FloatVector.fromArray(FS, x, i + 48), a3);
            a4 = lo(v2).fma(FloatVector.fromArray(FS, x, i + 64), a4);
            a5 = hi(v2).fma(FloatVector.fromArray(FS, x, i + 80), a5);
            a6 = lo(v3).fma(FloatVector.fromArray(FS, x, i + 96), a6);
            a7 = hi(v3).fma(FloatVector.fromArray(FS, x, i + 112), a7);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float dot4l(MemorySegment w, long off, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        long end = off + 2L * COLS;
        int i = 0;
        for (long b = off; b < end; b += 256, i += 128) {
            IntVector v0 = IntVector.fromMemorySegment(IS, w, b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, b + 64, LE);
            IntVector v2 = IntVector.fromMemorySegment(IS, w, b + 128, LE);
            IntVector v3 = IntVector.fromMemorySegment(IS, w, b + 192, LE);
            a0 = lo(v0).fma(FloatVector.fromArray(FS, x, i), a0);
            a1 = hi(v0).fma(FloatVector.fromArray(FS, x, i + 16), a1);
            a2 = lo(v1).fma(FloatVector.fromArray(FS, x, i + 32), a2);
            a3 = hi(v1).fma(FloatVector.fromArray(FS, x, i + 48), a3);
            a4 = lo(v2).fma(FloatVector.fromArray(FS, x, i + 64), a4);
            a5 = hi(v2).fma(FloatVector.fromArray(FS, x, i + 80), a5);
            a6 = lo(v3).fma(FloatVector.fromArray(FS, x, i + 96), a6);
            a7 = hi(v3).fma(FloatVector.fromArray(FS, x, i + 112), a7);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float dot4r2(MemorySegment w, long off, float[] x) {
        var FS = Matmul.FS; var IS = Matmul.IS; var LE = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        long rb = 2L * COLS;
        for (int i = 0; i < COLS; i += 64) {
            long b = off + 2L * i;
            IntVector v0 = IntVector.fromMemorySegment(IS, w, b, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, w, b + 64, LE);
            IntVector v2 = IntVector.fromMemorySegment(IS, w, b + rb, LE);
            IntVector v3 = IntVector.fromMemorySegment(IS, w, b + rb + 64, LE);
            FloatVector x0 = FloatVector.fromArray(FS, x, i), x1 = FloatVector.fromArray(FS, x, i + 16);
            FloatVector x2 = FloatVector.fromArray(FS, x, i + 32), x3 = FloatVector.fromArray(FS, x, i + 48);
            a0 = lo(v0).fma(x0, a0);
            a1 = hi(v0).fma(x1, a1);
            a2 = lo(v1).fma(x2, a2);
            a3 = hi(v1).fma(x3, a3);
            a4 = lo(v2).fma(x0, a4);
            a5 = hi(v2).fma(x1, a5);
            a6 = lo(v3).fma(x2, a6);
            a7 = hi(v3).fma(x3, a7);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    static float bigDot(MemorySegment s, float[] x) {
        FloatVector a0 = FloatVector.zero(Matmul.FS), a1 = a0;
        long n = s.byteSize();
        int xi = 0;
        for (long o = 0; o < n; o += 64) {
            IntVector v = IntVector.fromMemorySegment(Matmul.IS, s, o, ByteOrder.LITTLE_ENDIAN);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(Matmul.FS, x, xi), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(Matmul.FS, x, xi + 16), a1);
            xi = (xi + 32) & (COLS - 1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static void time(String what, MemorySegment[] segs, Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        double sec = (System.nanoTime() - t0) * 1e-9;
        System.out.printf(Locale.ROOT, "%-30s %.1f GB/s%n", what, segs.length * segs[0].byteSize() / sec / 1e9);
    }
}
