package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Measures the machine's memory read bandwidth the way a decode step uses it: a vectorised sum over an off-heap
 * buffer far larger than the caches, split into chunks over {@code threads} threads. Benchmarks divide the bytes of
 * weights they read per second by this figure to get model bandwidth utilisation (MBU).
 */
public final class MemoryBandwidth {
    /** Bytes read by {@link #measure(int)}: 1 GiB, far beyond any last-level cache. */
    public static final long DEFAULT_BYTES = 1L << 30;
    private static final long CHUNK = 4L << 20;

    private MemoryBandwidth() {
    }

    /** Read bandwidth in GB/s (10^9 bytes per second) with {@code threads} threads (0: one per processor). */
    public static double measure(int threads) {
        return measure(threads, DEFAULT_BYTES, 3);
    }

    /**
     * Read bandwidth in GB/s: the best of {@code passes} timed sums over a fresh buffer of {@code bytes} bytes, after
     * one untimed warm-up pass.
     */
    public static double measure(int threads, long bytes, int passes) {
        if (threads < 0) throw new IllegalArgumentException("threads: " + threads + " is negative");
        if (bytes < CHUNK) throw new IllegalArgumentException("bytes: " + bytes + " is below " + CHUNK);
        if (passes < 1) throw new IllegalArgumentException("passes: " + passes + " is not positive");
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        long size = bytes / CHUNK * CHUNK;
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(n, "floe-bandwidth")) {
            MemorySegment segment = arena.allocate(size, 64);
            segment.fill((byte) 1);
            float[] sink = new float[(int) (size / CHUNK)];
            double best = 0;
            for (int pass = 0; pass <= passes; pass++) {
                long t0 = System.nanoTime();
                read(pool, segment, sink);
                long t1 = System.nanoTime();
                if (pass > 0) best = Math.max(best, size / ((t1 - t0) * 1e-9) / 1e9);
            }
            float total = 0;
            for (float f : sink) total += f;
            if (total == 42f) System.out.print("");
            return best;
        }
    }

    /** Sums every float of {@code segment} in chunks across the pool; the sums land in {@code sink}. */
    static void read(WorkerPool pool, MemorySegment segment, float[] sink) {
        int chunks = (int) (segment.byteSize() / CHUNK);
        pool.run(chunks, c -> sink[c] = sum(segment, c * CHUNK, CHUNK));
    }

    private static float sum(MemorySegment s, long from, long bytes) {
        VectorSpecies<Float> fs = Matmul.FS;
        long step = fs.vectorByteSize();
        FloatVector a0 = FloatVector.zero(fs), a1 = a0, a2 = a0, a3 = a0;
        long end = from + bytes;
        for (long o = from; o < end; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(fs, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(fs, s, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(fs, s, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(fs, s, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
