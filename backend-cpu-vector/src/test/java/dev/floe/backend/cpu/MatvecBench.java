package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Decode-shaped matvec benchmark, run by hand (not a test):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp api/target/classes:spi/target/classes:backend-cpu-vector/target/classes:backend-cpu-vector/target/test-classes \
 *      dev.floe.backend.cpu.MatvecBench [threads=0] [rounds=4] [gigabytes=1]
 * </pre>
 * Builds about 1 GB of BF16 weights (and the same matrices in FP8 E4M3 with per-row scales) shaped like a decode
 * step: pairs of [5632 x 2048] and [2048 x 2048] matrices. Each "pass" multiplies one activation row through every
 * matrix once, as batch-1 decode does. Reports GB/s of weights read, passes/s, and the memory bandwidth measured by
 * {@link MemoryBandwidth} with the same thread count right before and after, since this machine's bandwidth drifts.
 * {@code -Dab=true} instead alternates passes with and without cache staging, {@code -Dblocks=16384,32768,...}
 * alternates staging block sizes; both print medians, which drift affects alike.
 */
public final class MatvecBench {
    private static final int[][] SHAPES = {{5632, 2048}, {2048, 2048}};

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        double gigabytes = args.length > 2 ? Double.parseDouble(args[2]) : 1.0;
        boolean unstaged = Boolean.getBoolean("unstaged");
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        try (Backend backend = new CpuVectorProvider().open(new BackendOptions(n, Map.of())); Arena arena = Arena.ofShared()) {
            System.out.println("device: " + backend.device());
            long pairBytes = 0;
            for (int[] s : SHAPES) pairBytes += 2L * s[0] * s[1];
            int pairs = (int) Math.ceil(gigabytes * 1e9 / pairBytes);
            List<Weight> bf16 = new ArrayList<>();
            List<Weight> fp8 = new ArrayList<>();
            Random rnd = new Random(1);
            for (int p = 0; p < pairs; p++) {
                for (int[] s : SHAPES) {
                    bf16.add(backend.weight(tensor(arena, DType.BF16, s[0], s[1], rnd)));
                    fp8.add(backend.weight(tensor(arena, DType.F8_E4M3, s[0], s[1], rnd)));
                }
            }
            long bf16Bytes = bf16.stream().mapToLong(w -> w.rows() * w.cols() * 2).sum();
            long fp8Bytes = fp8.stream().mapToLong(w -> w.rows() * w.cols()).sum();
            System.out.printf(Locale.ROOT, "weights: %d matrices, BF16 %.2f GB, FP8 %.2f GB, %d threads%n",
                    bf16.size(), bf16Bytes / 1e9, fp8Bytes / 1e9, n);
            Buffer x = backend.allocate(5632);
            Buffer y = backend.allocate(5632);
            float[] xs = new float[5632];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian();
            backend.upload(xs, 0, x, 0, xs.length);
            for (int warm = 0; warm < 3; warm++) {
                pass(backend, bf16, x, y);
                pass(backend, fp8, x, y);
            }
            if (System.getProperty("blocks") != null) {
                long[] sizes = Arrays.stream(System.getProperty("blocks").split(",")).mapToLong(Long::parseLong).toArray();
                blockCompare(backend, bf16, fp8, x, y, bf16Bytes, fp8Bytes, rounds * 10, sizes);
                return;
            }
            if (Boolean.getBoolean("ab")) {
                abCompare(backend, bf16, fp8, x, y, bf16Bytes, fp8Bytes, rounds * 10);
                return;
            }
            for (int round = 0; round < rounds; round++) {
                double before = MemoryBandwidth.measure(n, 1L << 30, 2);
                Matmul.staged = !unstaged;
                double[] b = time(backend, bf16, x, y, 5);
                double[] f = time(backend, fp8, x, y, 5);
                double after = MemoryBandwidth.measure(n, 1L << 30, 2);
                double bw = Math.max(before, after);
                double bfGbs = bf16Bytes / b[0] / 1e9, fpGbs = fp8Bytes / f[0] / 1e9;
                System.out.printf(Locale.ROOT,
                        (unstaged ? "unstaged " : "") + "round %d: bandwidth %.1f / %.1f GB/s | BF16 %.1f GB/s (%.0f%% of max bw) %.2f passes/s"
                                + " (median %.2f) | FP8 %.1f GB/s (%.0f%%) %.2f passes/s (median %.2f) | FP8/BF16 speed %.2fx%n",
                        round, before, after, bfGbs, 100 * bfGbs / bw, 1 / b[0], 1 / b[1], fpGbs, 100 * fpGbs / bw,
                        1 / f[0], 1 / f[1], b[0] / f[0]);
            }
        }
    }

    /** Alternates staged and unstaged passes so that bandwidth drift hits both alike; prints medians. */
    private static void abCompare(Backend backend, List<Weight> bf16, List<Weight> fp8, Buffer x, Buffer y,
                                  long bf16Bytes, long fp8Bytes, int reps) {
        double[][] t = new double[4][reps];
        Matmul.blockBytes = Long.getLong("blockBytes", Matmul.blockBytes);
        for (int r = 0; r < reps; r++) {
            for (int v = 0; v < 4; v++) {
                Matmul.staged = v % 2 == 0;
                long t0 = System.nanoTime();
                pass(backend, v < 2 ? bf16 : fp8, x, y);
                t[v][r] = (System.nanoTime() - t0) * 1e-9;
            }
        }
        System.out.println("block bytes " + Matmul.blockBytes);
        String[] names = {"BF16 staged", "BF16 unstaged", "FP8 staged", "FP8 unstaged"};
        for (int v = 0; v < 4; v++) {
            Arrays.sort(t[v]);
            double med = t[v][reps / 2];
            System.out.printf(Locale.ROOT, "%-14s median %.1f GB/s %.2f passes/s, best %.1f GB/s%n", names[v],
                    (v < 2 ? bf16Bytes : fp8Bytes) / med / 1e9, 1 / med, (v < 2 ? bf16Bytes : fp8Bytes) / t[v][0] / 1e9);
        }
        Matmul.staged = true;
    }

    /** Alternates block sizes of the staged matvec; prints medians. */
    private static void blockCompare(Backend backend, List<Weight> bf16, List<Weight> fp8, Buffer x, Buffer y,
                                     long bf16Bytes, long fp8Bytes, int reps, long[] sizes) {
        double[][] t = new double[2 * sizes.length][reps];
        for (int r = 0; r < reps; r++) {
            for (int v = 0; v < t.length; v++) {
                Matmul.blockBytes = sizes[v / 2];
                long t0 = System.nanoTime();
                pass(backend, v % 2 == 0 ? bf16 : fp8, x, y);
                t[v][r] = (System.nanoTime() - t0) * 1e-9;
            }
        }
        for (int v = 0; v < t.length; v++) {
            Arrays.sort(t[v]);
            long bytes = v % 2 == 0 ? bf16Bytes : fp8Bytes;
            System.out.printf(Locale.ROOT, "%s block %7d: median %.1f GB/s, best %.1f GB/s%n", v % 2 == 0 ? "BF16" : "FP8 ",
                    sizes[v / 2], bytes / t[v][reps / 2] / 1e9, bytes / t[v][0] / 1e9);
        }
    }

    /** Best and median seconds per pass over {@code reps} passes. */
    private static double[] time(Backend backend, List<Weight> ws, Buffer x, Buffer y, int reps) {
        double[] t = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            pass(backend, ws, x, y);
            t[r] = (System.nanoTime() - t0) * 1e-9;
        }
        Arrays.sort(t);
        return new double[]{t[0], t[reps / 2]};
    }

    private static void pass(Backend backend, List<Weight> ws, Buffer x, Buffer y) {
        for (Weight w : ws) backend.matmul(x, 1, w, y);
        backend.synchronize();
    }

    /** A random weight: a 64 KiB pattern of valid codes repeated (speed does not depend on the values). */
    static TensorData tensor(Arena arena, DType dtype, int rows, int cols, Random rnd) {
        long bytes = (long) rows * cols * dtype.bytes();
        MemorySegment seg = arena.allocate(bytes, 64);
        MemorySegment pattern = arena.allocate(1 << 16, 64);
        for (int i = 0; i < (1 << 16) / dtype.bytes(); i++) {
            float v = (float) rnd.nextGaussian();
            if (dtype == DType.BF16) {
                pattern.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                        FloatFormats.floatToBf16(v * 0.02f));
            } else {
                pattern.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE4m3(v * 100, true));
            }
        }
        for (long o = 0; o < bytes; o += 1 << 16) {
            MemorySegment.copy(pattern, 0, seg, o, Math.min(1 << 16, bytes - o));
        }
        TensorData t = new TensorData("bench." + dtype + "." + rows + "x" + cols, dtype, new long[]{rows, cols}, seg, null);
        if (dtype == DType.F8_E4M3) {
            MemorySegment s = arena.allocate(4L * rows, 64);
            for (int r = 0; r < rows; r++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, r, 0.0002f);
            t = t.withScale(new TensorData(t.name() + ".scale", DType.F32, new long[]{rows}, s, null));
        }
        return t;
    }
}
