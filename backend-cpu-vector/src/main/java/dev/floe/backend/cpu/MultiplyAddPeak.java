package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.CyclicBarrier;

/**
 * Measures the machine's float32 multiply-add rate with the Vector API: every thread runs twelve independent FMA
 * chains held in registers (enough to cover the FMA latency on current x86 and Arm cores), nothing read from memory.
 * This is the ceiling a GEMM can reach in this JVM on this machine, whatever the CPU's datasheet says; benchmarks
 * divide the multiply-adds a pass does per second by it to get the utilisation of the multiply-add units.
 */
public final class MultiplyAddPeak {
    static final int CHAINS = 12;
    /** Iterations of the twelve chains per call of {@link #chains}: short enough for C2 to compile the method itself. */
    static final int ITERATIONS = 1 << 16;

    private MultiplyAddPeak() {
    }

    /** Float32 multiply-adds per second, in units of 10^9, with {@code threads} threads (0: one per processor). */
    public static double measure(int threads) {
        return measure(threads, 2_000_000_000L, 3);
    }

    /**
     * The best of {@code passes} timed runs in which every one of {@code threads} threads does about {@code perThread}
     * multiply-adds, after one untimed warm-up run; in G multiply-adds per second.
     */
    public static double measure(int threads, long perThread, int passes) {
        if (threads < 0) throw new IllegalArgumentException("threads: " + threads + " is negative");
        if (perThread < 1) throw new IllegalArgumentException("perThread: " + perThread + " is not positive");
        if (passes < 1) throw new IllegalArgumentException("passes: " + passes + " is not positive");
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        long perCall = (long) CHAINS * ITERATIONS * Matmul.VL;
        long calls = Math.max(1, perThread / perCall);
        double best = 0;
        for (int pass = 0; pass <= passes; pass++) {
            double seconds = run(n, pass == 0 ? Math.max(1, calls / 4) : calls);
            if (pass > 0) best = Math.max(best, n * calls * perCall / seconds / 1e9);
        }
        return best;
    }

    /**
     * Seconds from the first thread's start to the last one's end, {@code n} threads released together making
     * {@code calls} calls each. Each thread reads the clock itself: on a loaded machine the coordinating thread may
     * be scheduled only after the others have finished.
     */
    private static double run(int n, long calls) {
        CyclicBarrier start = new CyclicBarrier(n);
        float[] sink = new float[n];
        long[] begin = new long[n], end = new long[n];
        Thread[] threads = new Thread[n];
        for (int t = 0; t < n; t++) {
            int id = t;
            threads[t] = Thread.ofPlatform().daemon().name("floe-fma-peak-" + t).start(() -> {
                await(start);
                begin[id] = System.nanoTime();
                float s = 0;
                for (long c = 0; c < calls; c++) s += chains(0.999f + id * 1e-6f);
                end[id] = System.nanoTime();
                sink[id] = s;
            });
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the multiply-add rate", e);
            }
        }
        float total = 0;
        for (float f : sink) total += f;
        if (total == 42f) System.out.print("");
        return (java.util.Arrays.stream(end).max().orElseThrow() - java.util.Arrays.stream(begin).min().orElseThrow()) * 1e-9;
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await();
        } catch (Exception e) {
            throw new IllegalStateException("multiply-add measurement could not start its threads", e);
        }
    }

    /** {@code ITERATIONS} steps of {@code a = a * m + c} on twelve vectors: they converge to {@code c / (1 - m)}, no overflow. */
    static float chains(float m) {
        VectorSpecies<Float> fs = Matmul.FS;
        FloatVector mv = FloatVector.broadcast(fs, m), c = FloatVector.broadcast(fs, 1e-3f);
        FloatVector a0 = FloatVector.broadcast(fs, 1f), a1 = a0.add(1f), a2 = a1.add(1f), a3 = a2.add(1f);
        FloatVector a4 = a3.add(1f), a5 = a4.add(1f), a6 = a5.add(1f), a7 = a6.add(1f);
        FloatVector a8 = a7.add(1f), a9 = a8.add(1f), a10 = a9.add(1f), a11 = a10.add(1f);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(mv, c);
            a1 = a1.fma(mv, c);
            a2 = a2.fma(mv, c);
            a3 = a3.fma(mv, c);
            a4 = a4.fma(mv, c);
            a5 = a5.fma(mv, c);
            a6 = a6.fma(mv, c);
            a7 = a7.fma(mv, c);
            a8 = a8.fma(mv, c);
            a9 = a9.fma(mv, c);
            a10 = a10.fma(mv, c);
            a11 = a11.fma(mv, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).lane(0);
    }
}
