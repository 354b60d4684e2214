package dev.floe.backend.cpu.jmh;

import dev.floe.backend.cpu.KernelAccess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;

/**
 * The GEMM's 4 x 4 micro-kernel alone, on cache-resident operands: one column slice of a panel ({@code weightRows}
 * decoded weight rows) against one full activation block, repeated. {@code weightRows=4} keeps everything in L1 (the
 * kernel's own ceiling); the panel's full height is what {@code Gemm.panel} runs. Against
 * {@link MultiplyAddPeakBenchmark} it separates the kernel's losses from the rest of the GEMM's ({@link GemmBenchmark}).
 */
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MicroKernelBenchmark {
    @Param({"4", "64"})
    public int weightRows;
    /** Activation blocks the slice runs against one after the other (4: a 256-row pass with AVX-512). */
    @Param({"1", "4"})
    public int blocks;

    private float[] xp, panel, acc;

    @Setup
    public void fill() {
        if (weightRows % 4 != 0 || weightRows > KernelAccess.GEMM_NR) {
            throw new IllegalArgumentException("weightRows: " + weightRows + " is not a multiple of 4 up to " + KernelAccess.GEMM_NR);
        }
        Random rnd = new Random(1);
        xp = new float[blocks * KernelAccess.GEMM_XR * KernelAccess.GEMM_KC];
        panel = new float[KernelAccess.GEMM_NR * KernelAccess.GEMM_KC];
        acc = new float[KernelAccess.GEMM_NR * KernelAccess.GEMM_XR];
        for (int i = 0; i < xp.length; i++) xp[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < panel.length; i++) panel[i] = (float) rnd.nextGaussian() * 1e-3f;
    }

    @Benchmark
    public float slice(Counters counters) {
        for (int b = 0; b < blocks; b++) {
            KernelAccess.gemmSlice(xp, b * KernelAccess.GEMM_XR * KernelAccess.GEMM_KC, panel, weightRows, acc, false);
        }
        counters.multiplyAdds += (long) blocks * weightRows * KernelAccess.GEMM_XR * KernelAccess.GEMM_KC;
        return acc[0];
    }
}
