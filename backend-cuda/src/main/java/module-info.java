/** The CUDA backend ({@code cuda}): JCuda driver API, our PTX kernels, NVRTC/cuBLASLt/NCCL through FFM. */
module dev.floe.backend.cuda {
    requires dev.floe.spi;
}
