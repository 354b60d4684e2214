package dev.floe.backend.cuda;

import jcuda.Pointer;

/**
 * The backend's view of its {@link Device} that refuses, while a CUDA graph is being captured, every call that
 * cannot be part of a graph: an allocation or free (the pool's {@code cuMemAlloc}/{@code cuMemFree}), a synchronous
 * copy, a synchronisation, and a staged copy (the graph would read the pinned ring's piece at replay, long after
 * it was rewritten). Such a call during capture is a bug in the capture's preparation, so it fails loudly, which
 * makes the compiled plan fall back to eager replay with the reason; the stream's capture is never invalidated
 * behind our back. Kernel launches and memsets pass.
 */
final class CaptureGuard implements Device {
    private final Device device;
    private boolean capturing;

    /** A call that a CUDA graph cannot hold was made during a capture. */
    static final class NotCapturable extends IllegalStateException {
        NotCapturable(String call) {
            super(call + " during a CUDA graph capture: it cannot be part of a graph");
        }
    }

    CaptureGuard(Device device) {
        this.device = device;
    }

    Device device() {
        return device;
    }

    private void refuse(String call) {
        if (capturing) throw new NotCapturable(call);
    }

    @Override
    public void beginCapture() {
        refuse("cuStreamBeginCapture");
        device.beginCapture();
        capturing = true;
    }

    @Override
    public long endCapture() {
        capturing = false;
        return device.endCapture();
    }

    @Override
    public long instantiate(long graph) {
        refuse("cuGraphInstantiate");
        return device.instantiate(graph);
    }

    @Override
    public void launchGraph(long exec) {
        refuse("cuGraphLaunch");
        device.launchGraph(exec);
    }

    @Override
    public void destroyGraph(long graph, long exec) {
        refuse("cuGraphDestroy");
        device.destroyGraph(graph, exec);
    }

    @Override
    public DeviceInfo info() {
        return device.info();
    }

    @Override
    public void makeCurrent() {
        device.makeCurrent();
    }

    @Override
    public void zero(long address, long floats) {
        device.zero(address, floats);
    }

    @Override
    public void upload(Pointer host, long blockAddress, long byteOffset, long bytes) {
        refuse("cuMemcpyHtoD");
        device.upload(host, blockAddress, byteOffset, bytes);
    }

    @Override
    public void download(long blockAddress, long byteOffset, Pointer host, long bytes) {
        refuse("cuMemcpyDtoH");
        device.download(blockAddress, byteOffset, host, bytes);
    }

    @Override
    public void stage(int[] ints, float[] floats, long blockAddress) {
        refuse("a staged copy (cuMemcpyHtoDAsync from the pinned ring)");
        device.stage(ints, floats, blockAddress);
    }

    @Override
    public void launch(Kernel kernel, String entry, Launch launch, KernelArgs args) {
        device.launch(kernel, entry, launch, args);
    }

    @Override
    public void synchronize() {
        refuse("cuStreamSynchronize");
        device.synchronize();
    }

    @Override
    public long streamHandle() {
        return device.streamHandle();
    }

    @Override
    public long allocate(long bytes) {
        refuse("cuMemAlloc(" + bytes + ")");
        return device.allocate(bytes);
    }

    @Override
    public void free(long address) {
        refuse("cuMemFree");
        device.free(address);
    }

    @Override
    public void close() {
        device.close();
    }
}
