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

    /**
     * {@code cuStreamBeginCapture} of the stream (thread-local mode): until {@link #endCapture}, launches on the stream
     * are recorded into a graph instead of run, and a host-synchronous call (copy, synchronisation, allocation) by
     * this thread fails.
     */
    void beginCapture();

    /**
     * {@code cuStreamEndCapture}: the captured graph's handle. Ends the capture even when it failed (then throws,
     * naming the driver's status), so the stream is usable again.
     */
    long endCapture();

    /** {@code cuGraphInstantiate} of a captured graph: the executable's handle. */
    long instantiate(long graph);

    /** {@code cuGraphLaunch} of an executable graph on the stream. */
    void launchGraph(long exec);

    /** {@code cuGraphExecDestroy} of the executable (0: none) and {@code cuGraphDestroy} of the graph (0: none). */
    void destroyGraph(long graph, long exec);

    /** The {@code CUstream} handle, for libraries called through {@code java.lang.foreign}. */
    long streamHandle();

    @Override
    void close();
}
