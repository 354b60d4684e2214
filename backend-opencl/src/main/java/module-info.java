/** The OpenCL backend ({@code opencl}) through LWJGL. */
module dev.floe.backend.opencl {
    requires dev.floe.spi;
}
