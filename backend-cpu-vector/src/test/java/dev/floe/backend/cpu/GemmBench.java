package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Weight;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Matmul multiply-add rate for several row counts, the GEMM against the dot products, run by hand (not a test):
 * <pre>
 * java --add-modules jdk.incubator.vector -Drows=16,32,64,256 -cp api/target/classes:spi/target/classes:backend-cpu-vector/target/classes:backend-cpu-vector/target/test-classes \
 *      dev.floe.backend.cpu.GemmBench [threads=1]
 * </pre>
 * A [2048 x 2048] weight in BF16 and FP8 E4M3; rounds alternate the two paths ({@link Gemm#minRows}) and the best
 * of the last four is printed. With one thread the time is the thread's own CPU time (Linux
 * {@code /proc/thread-self/schedstat}), which a busy shared machine disturbs far less than the wall clock; the
 * multiply-add peak ({@link MultiplyAddPeak}, wall clock) is printed before and after.
 */
public final class GemmBench {
    private static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int[] rowsList = Arrays.stream(System.getProperty("rows", "16,32,64,256").split(",")).mapToInt(Integer::parseInt).toArray();
        int out = 2048, in = 2048;
        boolean cpuTime = threads == 1 && Files.isReadable(SCHEDSTAT);
        System.out.printf(Locale.ROOT, "peak %.1f G multiply-adds/s (%d threads, wall clock); timing by %s%n",
                MultiplyAddPeak.measure(threads), threads, cpuTime ? "the thread's CPU time" : "the wall clock");
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()))) {
            Random rnd = new Random(1);
            for (DType dt : new DType[]{DType.BF16, DType.F8_E4M3}) {
                Weight w = b.weight(TestTensors.tensor("w", dt, out, in, TestTensors.gaussian(rnd, out * in, 0.5)));
                for (int rows : rowsList) {
                    float[] x = TestTensors.gaussian(rnd, rows * in, 1);
                    try (Buffer xb = b.allocate(x.length); Buffer yb = b.allocate((long) rows * out)) {
                        b.upload(x, 0, xb, 0, x.length);
                        double[] best = new double[2];
                        for (int round = 0; round < 6; round++) {
                            for (int mode = 0; mode < 2; mode++) {
                                Gemm.minRows = mode == 0 ? Integer.MAX_VALUE : 1;
                                int reps = Math.max(3, 4096 / rows);
                                long t0 = now(cpuTime);
                                for (int i = 0; i < reps; i++) b.matmul(xb, rows, w, yb);
                                double s = (now(cpuTime) - t0) * 1e-9;
                                if (round > 1) best[mode] = Math.max(best[mode], (double) reps * rows * out * in / s / 1e9);
                            }
                        }
                        System.out.printf(Locale.ROOT, "%-8s rows %4d: dot products %6.1f   GEMM %6.1f G multiply-adds/s%n", dt, rows, best[0], best[1]);
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "peak %.1f G multiply-adds/s%n", MultiplyAddPeak.measure(threads));
    }

    private static long now(boolean cpuTime) {
        if (!cpuTime) return System.nanoTime();
        try {
            return Long.parseLong(Files.readString(SCHEDSTAT).split(" ")[0]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SCHEDSTAT, e);
        }
    }
}
