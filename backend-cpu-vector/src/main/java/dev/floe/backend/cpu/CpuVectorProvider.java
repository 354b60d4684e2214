package dev.floe.backend.cpu;

import dev.floe.api.BackendDevice;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.DeviceGroup;
import dev.floe.spi.Probe;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;

/**
 * The SIMD CPU reference backend, {@code cpu-vector}: Vector API kernels on a worker pool of
 * {@link BackendOptions#threads()} threads (0: one per available processor), reading weights in place. The property
 * {@value #WARMUP} asks {@link #open} to warm the JIT up for that many seconds; {@value #PROFILE}{@code =true} times
 * compiled plans step by step ({@code floe bench -D cpu-vector.profile=true}).
 */
public final class CpuVectorProvider implements BackendProvider {
    static final String NAME = "cpu-vector";
    /**
     * Option: seconds to spend at {@link #open} running every kernel on small inputs, so that the JIT has compiled
     * them before timing starts (benchmarks). Default 0.
     */
    public static final String WARMUP = "cpu-vector.warmup";
    /** Option: {@code true} times every compiled plan's steps and prints their medians when the backend closes. */
    public static final String PROFILE = "cpu-vector.profile";
    static final Set<Capability> CAPABILITIES = Set.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_F16,
            Capability.WEIGHTS_BF16, Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2,
            Capability.WEIGHTS_BLOCK_SCALES, Capability.ZERO_COPY_WEIGHTS, Capability.CONCURRENT_WEIGHTS, Capability.MULTI_THREADED, Capability.ATTENTION_SINKS,
            Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.PLANS, Capability.DISPATCH_COUNTER,
            Capability.COLLECTIVES);

    @Override public String name() { return NAME; }
    @Override public String version() { return "0.1.0"; }
    @Override public int rank() { return 10; }
    @Override public int spiVersion() { return 3; }
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

    /**
     * One device, the host: its physical memory and what is free of it (from the platform's
     * {@code OperatingSystemMXBean}; the JVM's maximum heap where that is unavailable), since mapped weights and the
     * KV cache live in host memory.
     */
    @Override
    public List<BackendDevice> devices() {
        try {
            String name = "host CPU (" + defaultThreads() + " cores, " + System.getProperty("os.arch") + ")";
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                    && os.getTotalMemorySize() > 0) {
                return List.of(new BackendDevice(0, name, os.getTotalMemorySize(), os.getFreeMemorySize()));
            }
            Runtime rt = Runtime.getRuntime();
            return List.of(new BackendDevice(0, name, rt.maxMemory(), rt.maxMemory() - rt.totalMemory() + rt.freeMemory()));
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
    }

    @Override
    public Backend open(BackendOptions options) {
        for (int d : options.devices()) {
            if (d != 0) throw new IllegalArgumentException("devices: cpu-vector has one device, 0 (the host); got " + d);
        }
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
        String profile = options.property(PROFILE, "false");
        if (!profile.equals("true") && !profile.equals("false")) {
            backend.close();
            throw new IllegalArgumentException("property " + PROFILE + ": '" + profile + "' is not true or false");
        }
        if (profile.equals("true")) backend.profile(new StepProfile());
        if (seconds > 0) JitWarmup.run(backend, seconds);
        return backend;
    }

    /**
     * An in-process group of {@code size} ranks, threads of this JVM, each with its own backend and memory; the
     * machine's threads are shared out among them (at least one each).
     */
    @Override
    public DeviceGroup openGroup(int size, BackendOptions options) {
        if (size < 1) throw new IllegalArgumentException("group size must be positive, got " + size);
        int threads = options.threads() == 0 ? defaultThreads() : options.threads();
        String timeout = options.property(InProcessGroup.TIMEOUT, "60");
        double seconds;
        try {
            seconds = Double.parseDouble(timeout);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("property " + InProcessGroup.TIMEOUT + ": '" + timeout + "' is not a number of seconds");
        }
        if (!(seconds > 0)) throw new IllegalArgumentException("property " + InProcessGroup.TIMEOUT + ": " + timeout + " must be positive");
        return new InProcessGroup(size, Math.max(1, threads / size), java.time.Duration.ofMillis((long) (seconds * 1000)));
    }

    static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }
}
