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
 * Batch-1 decode's matvecs: one activation row through the weight shapes of {@code shapes} totalling about
 * {@code megabytes} of weights, far beyond the caches, so each invocation streams them from memory once.
 * {@code shapes}: {@code mlp} (the earlier [5632 x 2048] and [2048 x 2048] pair), {@code peer-cpu} (what a
 * {@code peer-cpu} decode token reads: q/o and the residual MLP [2048 x 2048], k/v [512 x 2048], expert w1/w3
 * [1408 x 2048] and w2 [2048 x 1408]) or {@code head} (the [32000 x 2048] output head). The {@code weightBytes} counter is the read bandwidth the kernels reach;
 * compare it with {@code floe bench}'s measured memory bandwidth. {@code staged} and {@code blockBytes} switch the
 * cache staging of weight blocks (the backend's default: staged, 32 KiB).
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatvecBenchmark {
    private static final Map<String, int[][]> SHAPES = Map.of(
            "mlp", new int[][]{{5632, 2048}, {2048, 2048}},
            "peer-cpu", new int[][]{{2048, 2048}, {512, 2048}, {1408, 2048}, {2048, 1408}},
            "head", new int[][]{{32000, 2048}});

    @Param({"BF16", "F8_E4M3"})
    public DType dtype;
    @Param({"0"})
    public int threads;
    @Param({"1024"})
    public int megabytes;
    @Param({"true"})
    public boolean staged;
    @Param({"32768"})
    public long blockBytes;
    @Param({"mlp"})
    public String shapes;

    private Backend backend;
    private final List<Weight> weights = new ArrayList<>();
    private long bytes;
    private Buffer x, y;

    @Setup(Level.Trial)
    public void open() {
        KernelAccess.staging(staged, blockBytes);
        backend = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()));
        int[][] set = SHAPES.get(shapes);
        if (set == null) throw new IllegalArgumentException("shapes: " + shapes + " is not one of " + SHAPES.keySet());
        Random rnd = new Random(1);
        // distinct random weights for the first set; later sets repeat their bytes (speed does not depend on values)
        List<float[]> values = new ArrayList<>();
        for (int[] s : set) values.add(TestTensors.gaussian(rnd, s[0] * s[1], 0.02));
        while (bytes < megabytes * 1_000_000L) {
            for (int i = 0; i < set.length; i++) {
                Weight w = backend.weight(TestTensors.tensor("w" + weights.size(), dtype, set[i][0], set[i][1], values.get(i)));
                weights.add(w);
                bytes += w.byteSize();
            }
        }
        int widest = 0;
        for (int[] s : set) widest = Math.max(widest, Math.max(s[0], s[1]));
        float[] xs = TestTensors.gaussian(rnd, widest, 1);
        x = backend.allocate(xs.length);
        y = backend.allocate(widest);
        backend.upload(xs, 0, x, 0, xs.length);
    }

    @TearDown(Level.Trial)
    public void close() {
        x.close();
        y.close();
        weights.forEach(Weight::close);
        backend.close();
        KernelAccess.staging(true, 32 << 10);
    }

    @Benchmark
    public void pass(Counters counters) {
        for (Weight w : weights) backend.matmul(x, 1, w, y);
        backend.synchronize();
        counters.weightBytes += bytes;
        counters.multiplyAdds += bytes / dtype.bytes();
    }
}
