package dev.floe.backend.cuda;

import jcuda.Pointer;

/**
 * What {@link CudaBackend} needs from a device: raw memory, copies, launches and the stream, in stream order.
 * {@link CudaContext} is the real one (JCuda driver API); tests drive the backend's host logic with a recording
 * fake, which checks everything up to the kernel launch without a GPU.
 */
interface Device extends DeviceAllocator, AutoCloseable {
    DeviceInfo info();

    /** Binds the device's context to the calling thread. */
    void makeCurrent();

    /** Zeroes {@code floats} floats at {@code address}, in stream order. */
    void zero(long address, long floats);

    /** Synchronous host-to-device copy into the block at {@code blockAddress}, at {@code byteOffset}. */
    void upload(Pointer host, long blockAddress, long byteOffset, long bytes);

    /** Synchronous device-to-host copy; sees every earlier call. */
    void download(long blockAddress, long byteOffset, Pointer host, long bytes);

    /** Copies a small int array ({@code floats} null) or float array to a block, in stream order. */
    void stage(int[] ints, float[] floats, long blockAddress);

    /** Launches {@code entry} of {@code kernel}; the arguments have been checked against its signature. */
    void launch(Kernel kernel, String entry, Launch launch, KernelArgs args);

    /** Waits for the stream. */
    void synchronize();

    /** The {@code CUstream} handle, for libraries called through {@code java.lang.foreign}. */
    long streamHandle();

    @Override
    void close();
}
