package dev.floe.backend.cpu;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.Set;

/**
 * The SIMD CPU reference backend, {@code cpu-vector}: Vector API kernels on a worker pool of
 * {@link BackendOptions#threads()} threads (0: one per available processor), reading weights in place. The property
 * {@value #WARMUP} asks {@link #open} to warm the JIT up for that many seconds.
 */
public final class CpuVectorProvider implements BackendProvider {
    static final String NAME = "cpu-vector";
    /**
     * Option: seconds to spend at {@link #open} running every kernel on small inputs, so that the JIT has compiled
     * them before timing starts (benchmarks). Default 0.
     */
    public static final String WARMUP = "cpu-vector.warmup";
    static final Set<Capability> CAPABILITIES = Set.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_F16,
            Capability.WEIGHTS_BF16, Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2,
            Capability.ZERO_COPY_WEIGHTS, Capability.MULTI_THREADED, Capability.ATTENTION_SINKS,
            Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.PLANS, Capability.DISPATCH_COUNTER);

    @Override public String name() { return NAME; }
    @Override public String version() { return "0.1.0"; }
    @Override public int rank() { return 10; }
    @Override public int spiVersion() { return 2; }
    @Override public Set<Capability> capabilities() { return CAPABILITIES; }

    @Override
    public Probe probe() {
        try {
            int bits = VectorSupport.vectorBits();
            if (bits < 128) return new Probe.Unavailable("the Vector API offers only " + bits + "-bit float vectors");
            return new Probe.Available(VectorSupport.describe(defaultThreads()));
        } catch (LinkageError | RuntimeException e) {
            return new Probe.Unavailable("the Vector API (module jdk.incubator.vector) cannot be used: " + e);
        }
    }

    @Override
    public Backend open(BackendOptions options) {
        int threads = options.threads();
        if (threads < 0) throw new IllegalArgumentException("threads: " + threads + " is negative");
        CpuVectorBackend backend = new CpuVectorBackend(threads == 0 ? defaultThreads() : threads);
        String warmup = options.property(WARMUP, "0");
        double seconds;
        try {
            seconds = Double.parseDouble(warmup);
        } catch (NumberFormatException e) {
            backend.close();
            throw new IllegalArgumentException("property " + WARMUP + ": '" + warmup + "' is not a number of seconds");
        }
        if (seconds > 0) JitWarmup.run(backend, seconds);
        return backend;
    }

    static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }
}
