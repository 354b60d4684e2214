package dev.floe.backend.cpu.jmh;

import dev.floe.api.DType;
import dev.floe.backend.cpu.CpuVectorProvider;
import dev.floe.backend.cpu.KernelAccess;
import dev.floe.backend.cpu.TestTensors;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Weight;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A matmul of {@code rows} activation rows through one [out x in] weight, as prompt processing and batched decode
 * issue it, through the backend's public {@code matmul}: {@code path=auto} is what the backend does (the GEMM from
 * {@code Gemm.minRows} rows: 32 with AVX-512, 96 with AVX2), {@code dot} forces the per-row dot products, {@code gemm} the GEMM at every row count. The
 * {@code multiplyAdds} counter divided by {@link MultiplyAddPeakBenchmark}'s (same thread count) is the utilisation.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GemmBenchmark {
    @Param({"BF16", "F8_E4M3"})
    public DType dtype;
    @Param({"1", "16", "64", "256"})
    public int rows;
    @Param({"auto"})
    public String path;
    /** Backend worker threads (0: one per processor). */
    @Param({"1"})
    public int threads;
    @Param({"2048"})
    public int out;
    @Param({"2048"})
    public int in;
    /**
     * 0: one weight, which stays in the caches; else distinct weights of this many megabytes in all, each invocation
     * multiplying by the next, so that every weight comes from memory (the experts of a batched MoE step).
     */
    @Param({"0"})
    public int megabytes;

    private Backend backend;
    private final List<Weight> weights = new ArrayList<>();
    private int next;
    private Buffer x, y;
    private int defaultMinRows;

    @Setup(Level.Trial)
    public void open() {
        defaultMinRows = KernelAccess.gemmMinRows();
        KernelAccess.gemmMinRows(switch (path) {
            case "auto" -> defaultMinRows;
            case "dot" -> Integer.MAX_VALUE;
            case "gemm" -> 1;
            default -> throw new IllegalArgumentException("path: " + path + " is not auto, dot or gemm");
        });
        backend = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()));
        Random rnd = new Random(1);
        float[] values = TestTensors.gaussian(rnd, out * in, 0.5);
        long bytes = 0;
        do {
            Weight w = backend.weight(TestTensors.tensor("w" + weights.size(), dtype, out, in, values));
            weights.add(w);
            bytes += w.byteSize();
        } while (bytes < megabytes * 1_000_000L);
        float[] xs = TestTensors.gaussian(rnd, rows * in, 1);
        x = backend.allocate(xs.length);
        y = backend.allocate((long) rows * out);
        backend.upload(xs, 0, x, 0, xs.length);
    }

    @TearDown(Level.Trial)
    public void close() {
        x.close();
        y.close();
        weights.forEach(Weight::close);
        weights.clear();
        backend.close();
        KernelAccess.gemmMinRows(defaultMinRows);
    }

    @Benchmark
    public void matmul(Counters counters) {
        Weight weight = weights.get(next);
        next = (next + 1) % weights.size();
        backend.matmul(x, rows, weight, y);
        backend.synchronize();
        counters.multiplyAdds += (long) rows * out * in;
        counters.weightBytes += weight.byteSize();
    }
}
