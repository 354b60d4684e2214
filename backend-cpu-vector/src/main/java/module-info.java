/**
 * The SIMD CPU reference backend ({@code cpu-vector}): Vector API kernels on a worker pool. Exports its package for
 * {@link dev.floe.backend.cpu.MemoryBandwidth}, which benchmarks use to compute model bandwidth utilisation.
 */
module dev.floe.backend.cpu {
    requires dev.floe.spi;
    requires jdk.incubator.vector;
    requires jdk.management;
    exports dev.floe.backend.cpu;
    provides dev.floe.spi.BackendProvider with dev.floe.backend.cpu.CpuVectorProvider;
}
