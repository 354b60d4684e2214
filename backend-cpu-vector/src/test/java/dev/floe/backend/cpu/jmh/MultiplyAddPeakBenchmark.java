package dev.floe.backend.cpu.jmh;

import dev.floe.backend.cpu.KernelAccess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The float32 multiply-add ceiling of this JVM on this machine: twelve register-only FMA chains per thread, as
 * {@code floe bench} measures it ({@code MultiplyAddPeak}). Run with {@code -t 2} for two threads; the
 * {@code multiplyAdds} counter is the figure GEMM utilisation is measured against.
 */
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class MultiplyAddPeakBenchmark {
    @Benchmark
    public float chains(Counters counters) {
        counters.multiplyAdds += KernelAccess.PEAK_MULTIPLY_ADDS_PER_CALL;
        return KernelAccess.peakChains(0.999f);
    }
}
