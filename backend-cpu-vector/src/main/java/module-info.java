/** The SIMD CPU reference backend ({@code cpu-vector}): Vector API kernels on a worker pool. */
module dev.floe.backend.cpu {
    requires dev.floe.spi;
    requires jdk.incubator.vector;
    provides dev.floe.spi.BackendProvider with dev.floe.backend.cpu.CpuVectorProvider;
}
