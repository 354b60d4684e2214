package dev.floe.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

import static dev.floe.backend.cuda.Cuda.check;

/**
 * One device's primary context, the stream all work of a backend goes to, the loaded PTX modules and their
 * functions, and raw device memory. The stream is a blocking one ({@link CUstream_flags#CU_STREAM_DEFAULT}), so
 * the synchronous copies on the legacy stream ({@code cuMemcpyHtoD} of activations, {@code cuMemcpyDtoH}) are
 * ordered with the kernels without explicit events. Index arrays travel asynchronously through a pinned
 * {@link StagingRing}.
 */
final class CudaContext implements Device {
    private final DeviceInfo info;
    private final CUdevice device;
    private final CUcontext context = new CUcontext();
    private final Stream stream = new Stream();
    private final Map<PtxModule.Name, CUmodule> modules = new EnumMap<>(PtxModule.Name.class);
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<Long, DevicePointer> allocations = new HashMap<>();
    /** Captured graphs and their executables by handle: a counter, since JCuda keeps the native pointer private. */
    private final Map<Long, CUgraph> graphs = new HashMap<>();
    private final Map<Long, CUgraphExec> execs = new HashMap<>();
    private long handles;
    private final String arch;
    private final Pointer pinned = new Pointer();
    private final ByteBuffer pinnedBytes;
    private final StagingRing ring = new StagingRing(STAGING_BYTES);

    /** Bytes of pinned host memory for staging index arrays. */
    static final long STAGING_BYTES = 4L << 20;

    /** A stream whose handle can be handed to libraries called through {@code java.lang.foreign}. */
    static final class Stream extends CUstream {
        long handle() {
            return getNativePointer();
        }
    }

    /** A graph whose native handle can be told from a null one. */
    static final class Graph extends CUgraph {
        long handle() {
            return getNativePointer();
        }
    }

    CudaContext(DeviceInfo info) {
        this.info = info;
        this.device = JCudaDriverApi.handle(info.ordinal());
        this.arch = PtxModule.archFor(info.major(), info.minor());
        check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
        boolean streamMade = false;
        try {
            makeCurrent();
            check("cuStreamCreate", JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT));
            streamMade = true;
            check("cuMemAllocHost(" + STAGING_BYTES + ")", JCudaDriver.cuMemAllocHost(pinned, STAGING_BYTES));
        } catch (RuntimeException e) {
            if (streamMade) JCudaDriver.cuStreamDestroy(stream);
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
        this.pinnedBytes = pinned.getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public long streamHandle() {
        return stream.handle();
    }

    String arch() {
        return arch;
    }

    /**
     * Binds the context to the calling thread. Done on every call, not cached per thread: calls may come from
     * different threads, and another backend (another device) may have bound its context to this thread since.
     */
    @Override
    public void makeCurrent() {
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
    }

    /** The function of a kernel entry, loading its PTX module on first use (the driver JIT-compiles it). */
    CUfunction function(PtxModule.Name moduleName, String entry) {
        String key = moduleName + "/" + entry;
        CUfunction f = functions.get(key);
        if (f != null) return f;
        CUmodule module = modules.get(moduleName);
        if (module == null) {
            PtxModule ptx = PtxModule.load(moduleName, arch);
            module = new CUmodule();
            check("cuModuleLoadData(" + PtxModule.resourceName(moduleName, arch) + ")",
                    JCudaDriver.cuModuleLoadData(module, ptx.image()));
            modules.put(moduleName, module);
        }
        f = new CUfunction();
        check("cuModuleGetFunction(" + entry + ")", JCudaDriver.cuModuleGetFunction(f, module, entry));
        functions.put(key, f);
        return f;
    }

    @Override
    public void launch(Kernel kernel, String entry, Launch l, KernelArgs args) {
        CUfunction f = function(kernel.module(), entry);
        check("cuLaunchKernel(" + entry + ")", JCudaDriver.cuLaunchKernel(f, l.gridX(), l.gridY(), l.gridZ(),
                l.block(), 1, 1, 0, stream, args.toPointer(), null));
    }

    @Override
    public long allocate(long bytes) {
        DevicePointer p = new DevicePointer();
        int r = JCudaDriver.cuMemAlloc(p, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new OutOfDeviceMemory("cuMemAlloc(" + bytes + "): CUDA_ERROR_OUT_OF_MEMORY");
        }
        check("cuMemAlloc(" + bytes + ")", r);
        allocations.put(p.address(), p);
        return p.address();
    }

    @Override
    public void free(long address) {
        DevicePointer p = allocations.remove(address);
        if (p == null) throw new IllegalArgumentException("0x" + Long.toHexString(address) + " was not allocated here");
        check("cuMemFree", JCudaDriver.cuMemFree(p));
    }

    /** A JCuda pointer to {@code address + offset} inside a block allocated here. */
    CUdeviceptr pointer(long blockAddress, long byteOffset) {
        DevicePointer p = allocations.get(blockAddress);
        if (p == null) throw new IllegalArgumentException("0x" + Long.toHexString(blockAddress) + " was not allocated here");
        return byteOffset == 0 ? p : p.withByteOffset(byteOffset);
    }

    @Override
    public void upload(Pointer host, long blockAddress, long byteOffset, long bytes) {
        check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(pointer(blockAddress, byteOffset), host, bytes));
    }

    /**
     * Copies a small int or float array to device memory asynchronously, in stream order, through the pinned
     * staging ring; arrays larger than the ring take a synchronous copy.
     */
    @Override
    public void stage(int[] ints, float[] floats, long blockAddress) {
        int n = ints != null ? ints.length : floats.length;
        long bytes = 4L * n;
        if (n == 0) return;
        if (!ring.fits(bytes)) {
            upload(ints != null ? Pointer.to(ints) : Pointer.to(floats), blockAddress, 0, bytes);
            return;
        }
        StagingRing.Piece piece = ring.reserve(bytes);
        if (piece.syncFirst()) {
            synchronize();
            ring.reset();
            piece = ring.reserve(bytes);
        }
        ByteBuffer view = pinnedBytes.slice((int) piece.offset(), (int) bytes).order(ByteOrder.nativeOrder());
        if (ints != null) view.asIntBuffer().put(ints);
        else view.asFloatBuffer().put(floats);
        check("cuMemcpyHtoDAsync", JCudaDriver.cuMemcpyHtoDAsync(pointer(blockAddress, 0),
                pinned.withByteOffset(piece.offset()), bytes, stream));
    }

    @Override
    public void download(long blockAddress, long byteOffset, Pointer host, long bytes) {
        check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(host, pointer(blockAddress, byteOffset), bytes));
    }

    @Override
    public void zero(long address, long floats) {
        check("cuMemsetD32Async", JCudaDriver.cuMemsetD32Async(pointer(address, 0), 0, floats, stream));
    }

    /** Device-to-device copy on the stream (the bandwidth reference of the micro-benchmark). */
    void copy(long srcBlock, long dstBlock, long bytes) {
        check("cuMemcpyDtoDAsync", JCudaDriver.cuMemcpyDtoDAsync(pointer(dstBlock, 0), pointer(srcBlock, 0), bytes, stream));
    }

    /** Waits for the stream; afterwards the whole staging ring is free again. */
    @Override
    public void synchronize() {
        check("cuStreamSynchronize", JCudaDriver.cuStreamSynchronize(stream));
        ring.reset();
    }

    /**
     * Thread-local mode: the capturing thread's discipline is {@link CaptureGuard}'s; global mode would also make other
     * threads' allocations (another model on this GPU) fail while the capture lasts.
     */
    @Override
    public void beginCapture() {
        check("cuStreamBeginCapture", JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    }

    @Override
    public long endCapture() {
        Graph g = new Graph();
        int r = JCudaDriver.cuStreamEndCapture(stream, g);
        if (r != CUresult.CUDA_SUCCESS) {
            // an invalidated capture may still hand back a graph
            if (g.handle() != 0) JCudaDriver.cuGraphDestroy(g);
            check("cuStreamEndCapture", r);
        }
        long handle = ++handles;
        graphs.put(handle, g);
        return handle;
    }

    @Override
    public long instantiate(long graph) {
        CUgraph g = graphs.get(graph);
        if (g == null) throw new IllegalArgumentException("graph 0x" + Long.toHexString(graph) + " was not captured here");
        CUgraphExec e = new CUgraphExec();
        check("cuGraphInstantiate", JCudaDriver.cuGraphInstantiate(e, g, 0));
        long handle = ++handles;
        execs.put(handle, e);
        return handle;
    }

    @Override
    public void launchGraph(long exec) {
        CUgraphExec e = execs.get(exec);
        if (e == null) throw new IllegalArgumentException("graph executable 0x" + Long.toHexString(exec) + " was not made here");
        check("cuGraphLaunch", JCudaDriver.cuGraphLaunch(e, stream));
    }

    @Override
    public void destroyGraph(long graph, long exec) {
        CUgraphExec e = execs.remove(exec);
        if (e != null) check("cuGraphExecDestroy", JCudaDriver.cuGraphExecDestroy(e));
        CUgraph g = graphs.remove(graph);
        if (g != null) check("cuGraphDestroy", JCudaDriver.cuGraphDestroy(g));
    }

    @Override
    public void close() {
        makeCurrent();
        JCudaDriver.cuStreamSynchronize(stream);
        for (CUgraphExec e : execs.values()) JCudaDriver.cuGraphExecDestroy(e);
        execs.clear();
        for (CUgraph g : graphs.values()) JCudaDriver.cuGraphDestroy(g);
        graphs.clear();
        for (CUmodule m : modules.values()) JCudaDriver.cuModuleUnload(m);
        modules.clear();
        functions.clear();
        for (DevicePointer p : allocations.values()) JCudaDriver.cuMemFree(p);
        allocations.clear();
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuMemFreeHost(pinned);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
