/**
 * The CUDA backend ({@code cuda}): the JCuda driver API for devices, memory, streams and launches of Floe's own
 * PTX kernels; cuBLASLt 13 (prefill GEMMs) and NCCL (collectives) through {@code java.lang.foreign}.
 */
module dev.floe.backend.cuda {
    requires dev.floe.spi;
    requires jcuda;
    provides dev.floe.spi.BackendProvider with dev.floe.backend.cuda.CudaProvider;
}
