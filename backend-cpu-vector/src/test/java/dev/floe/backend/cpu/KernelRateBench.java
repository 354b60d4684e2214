package dev.floe.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Where the BF16 decode matvec loses time, run by hand (not a test), on one thread:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp api/target/classes:spi/target/classes:backend-cpu-vector/target/classes:backend-cpu-vector/target/test-classes \
 *      dev.floe.backend.cpu.KernelRateBench KIB MODE [BLOCK]
 * </pre>
 * Streams {@code KIB} KiB of BF16 rows of 2048 through one kernel for a few seconds and prints GB/s of weights.
 * MODE: {@code dot4} (four rows per pass over the activations, from wherever the data is), {@code dot1} (one row
 * at a time), {@code touch} (the load-only staging loop), {@code staged} (touch a block of BLOCK bytes, then
 * {@code dot4} it). With KIB = 32 the data sits in L1, 512 in L2, 32768 in memory: the difference between the dot
 * rates from cache and from memory, and the touch rate, is what batch-1 decode is made of.
 */
public final class KernelRateBench {
    private static final int COLS = 2048;

    public static void main(String[] args) {
        long kib = Long.parseLong(args[0]);
        String mode = args.length > 1 ? args[1] : "dot4";
        long block = args.length > 2 ? Long.parseLong(args[2]) : Matmul.blockBytes;
        int rows = (int) (kib * 1024 / (2L * COLS)) / 4 * 4;
        int perBlock = Math.max(4, (int) (block / (2L * COLS)) / 4 * 4);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate((long) rows * COLS * 2, 64);
            for (long i = 0; i < w.byteSize(); i += 2) w.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (0x3f80 + (i & 0x7f)));
            float[] x = new float[COLS];
            for (int i = 0; i < COLS; i++) x[i] = (i % 7) * 0.1f;
            float[] out = new float[rows];
            int sink = 0;
            for (int round = 0; round < 6; round++) {
                long bytes = 0, t0 = System.nanoTime();
                while (System.nanoTime() - t0 < 1_000_000_000L) {
                    switch (mode) {
                        case "touch" -> sink += Matmul.touch(w, 0, w.byteSize());
                        case "dot1" -> {
                            for (int o = 0; o < rows; o++) out[o] = Matmul.bf16Dot(w, (long) o * COLS * 2, COLS, x, 0);
                        }
                        case "staged" -> {
                            for (int ob = 0; ob < rows; ob += perBlock) {
                                int oe = Math.min(rows, ob + perBlock);
                                sink += Matmul.touch(w, (long) ob * COLS * 2, (long) (oe - ob) * COLS * 2);
                                for (int o = ob; o + 4 <= oe; o += 4) Matmul.bf16Dot4Rows(w, (long) o * COLS * 2, COLS, x, 0, out, o);
                            }
                        }
                        case "dot4" -> {
                            for (int o = 0; o + 4 <= rows; o += 4) Matmul.bf16Dot4Rows(w, (long) o * COLS * 2, COLS, x, 0, out, o);
                        }
                        default -> throw new IllegalArgumentException("mode: " + mode + " is not dot4, dot1, touch or staged");
                    }
                    bytes += w.byteSize();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (round >= 2) System.out.printf(Locale.ROOT, "%d KiB %s: %.1f GB/s%n", kib, mode, bytes / seconds / 1e9);
            }
            if (sink == 42) System.out.println(out[0]);
        }
    }
}
