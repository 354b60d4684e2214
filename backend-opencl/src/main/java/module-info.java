/**
 * The OpenCL backend ({@code opencl}) through LWJGL: OpenCL C 1.2 kernels for every operation of the layer graph, with
 * weights kept in their checkpoint dtype (F32, F16, BF16, FP8 E4M3/E5M2) in device memory. Runs on any OpenCL 1.2
 * device, including PoCL on a CPU and NVIDIA's OpenCL on a GPU.
 */
module dev.floe.backend.opencl {
    requires dev.floe.spi;
    requires org.lwjgl;
    requires org.lwjgl.opencl;
    provides dev.floe.spi.BackendProvider with dev.floe.backend.opencl.OpenClProvider;
}
