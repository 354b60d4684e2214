package dev.floe.backend.cpu.jmh;

import dev.floe.backend.cpu.KernelAccess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where the BF16 decode matvec loses time, one thread: BF16 rows of 2048 streamed through one kernel from where
 * {@code kib} puts them (32: L1, 512: L2, 32768: memory). {@code dot4}: four rows per pass over the activations;
 * {@code dot1}: one row at a time; {@code touch}: the load-only staging loop; {@code staged}: touch a block of
 * {@code block} bytes, then {@code dot4} it; {@code fp8dot1}: the same bytes as FP8 E4M3 rows of 2048 codes (codes
 * as {@code floe bench}'s synthetic weights draw them), one row at a time, as batch-1 FP8 decode runs them. The gap between the dot rates from cache and from memory, and the touch
 * rate, is what batch-1 decode is made of ({@code weightBytes}: GB/s).
 */
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
public class KernelRateBenchmark {
    private static final int COLS = 2048;

    @Param({"32", "512", "32768"})
    public long kib;
    @Param({"dot4", "dot1", "touch", "staged", "fp8dot1"})
    public String mode;
    @Param({"32768"})
    public long block;

    private Arena arena;
    private MemorySegment w;
    private int rows, perBlock;
    private final float[] x = new float[COLS];
    private float[] out;

    @Setup(Level.Trial)
    public void open() {
        rows = (int) (kib * 1024 / (2L * COLS)) / 4 * 4;
        perBlock = Math.max(4, (int) (block / (2L * COLS)) / 4 * 4);
        arena = Arena.ofConfined();
        w = arena.allocate((long) rows * COLS * 2, 64);
        for (long i = 0; i < w.byteSize(); i += 2) w.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (0x3f80 + (i & 0x7f)));
        if (mode.equals("fp8dot1")) {
            // E4M3 codes with the top exponent bit clear (never NaN), a quarter of them subnormal, as SyntheticWeights
            for (long i = 0; i < w.byteSize(); i++) w.set(ValueLayout.JAVA_BYTE, i, (byte) ((i * 0x9E3779B1L >>> 13) & 0xB7));
        }
        for (int i = 0; i < COLS; i++) x[i] = (i % 7) * 0.1f;
        out = new float[rows];
    }

    @TearDown(Level.Trial)
    public void close() {
        arena.close();
    }

    /**
     * Compiled on its own, as in the backend: inlined into {@link #stream} beside the BF16 kernels, the FP8 decode
     * pushes C2 past its inlining node budget, its vector helpers stay calls and every vector is boxed (100x slower).
     */
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private static float e4m3Row(MemorySegment w, long off, float[] x) {
        return KernelAccess.e4m3Dot(w, off, COLS, x, 0);
    }

    @Benchmark
    public int stream(Counters counters) {
        int sink = 0;
        switch (mode) {
            case "touch" -> sink += KernelAccess.touch(w, 0, w.byteSize());
            case "dot1" -> {
                for (int o = 0; o < rows; o++) out[o] = KernelAccess.bf16Dot(w, (long) o * COLS * 2, COLS, x, 0);
            }
            case "staged" -> {
                for (int ob = 0; ob < rows; ob += perBlock) {
                    int oe = Math.min(rows, ob + perBlock);
                    sink += KernelAccess.touch(w, (long) ob * COLS * 2, (long) (oe - ob) * COLS * 2);
                    for (int o = ob; o + 4 <= oe; o += 4) KernelAccess.bf16Dot4Rows(w, (long) o * COLS * 2, COLS, x, 0, out, o);
                }
            }
            case "fp8dot1" -> {
                for (int o = 0; o < 2 * rows; o++) out[o >> 1] += e4m3Row(w, (long) o * COLS, x);
            }
            case "dot4" -> {
                for (int o = 0; o + 4 <= rows; o += 4) KernelAccess.bf16Dot4Rows(w, (long) o * COLS * 2, COLS, x, 0, out, o);
            }
            default -> throw new IllegalArgumentException("mode: " + mode + " is not dot4, dot1, touch, staged or fp8dot1");
        }
        counters.weightBytes += w.byteSize();
        return sink + Float.floatToRawIntBits(out[0]);
    }
}
