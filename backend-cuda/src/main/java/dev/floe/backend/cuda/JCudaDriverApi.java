package dev.floe.backend.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;

import static dev.floe.backend.cuda.Cuda.check;

/**
 * {@link DriverApi} over JCuda. Constructing it loads JCuda's native library: without {@code libcuda.so.1} that
 * throws {@link UnsatisfiedLinkError} the first time and {@link NoClassDefFoundError} afterwards, both
 * {@link LinkageError}s, which the probe turns into "unavailable". The first failure is remembered so that later
 * probes report the same, informative reason.
 */
final class JCudaDriverApi implements DriverApi {
    /** The CUDA driver's soname, which JCuda's native library links against. */
    static final String DRIVER = "libcuda.so.1";
    private static LinkageError loadFailure;
    private static boolean loaded;

    private JCudaDriverApi() {
    }

    /** Loads JCuda's driver binding (once per JVM); rethrows the first load failure on later calls. */
    static synchronized JCudaDriverApi load() {
        if (loadFailure != null) throw loadFailure;
        if (loaded) return new JCudaDriverApi();
        try {
            requireDriverLibrary();
            JCudaNatives.install();
            JCudaDriver.setExceptionsEnabled(false);
            loaded = true;
            return new JCudaDriverApi();
        } catch (LinkageError e) {
            loadFailure = e;
            throw e;
        }
    }

    /**
     * Fails with the loader's reason when {@code libcuda.so.1} cannot be opened. Checked before JCuda's library is
     * copied to {@code java.io.tmpdir}, so that probing a machine without a GPU leaves no file behind.
     */
    static void requireDriverLibrary() {
        if (NativeLibrary.open(DRIVER, null, java.util.List.of()) instanceof NativeLibrary.Missing(String reason)) {
            throw new UnsatisfiedLinkError(reason);
        }
    }

    @Override
    public void init() {
        check("cuInit", JCudaDriver.cuInit(0));
    }

    @Override
    public int driverVersion() {
        int[] v = new int[1];
        check("cuDriverGetVersion", JCudaDriver.cuDriverGetVersion(v));
        return v[0];
    }

    @Override
    public int deviceCount() {
        int[] n = new int[1];
        check("cuDeviceGetCount", JCudaDriver.cuDeviceGetCount(n));
        return n[0];
    }

    @Override
    public DeviceInfo device(int ordinal) {
        CUdevice dev = handle(ordinal);
        byte[] name = new byte[256];
        check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(name, name.length, dev));
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        long[] mem = new long[1];
        check("cuDeviceTotalMem", JCudaDriver.cuDeviceTotalMem(mem, dev));
        return new DeviceInfo(ordinal, new String(name, 0, len, StandardCharsets.UTF_8),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), mem[0],
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    /**
     * Retains the device's primary context (creating it if no one holds it, which costs the driver a few hundred MB
     * of the device until released), reads {@code cuMemGetInfo} in it, and releases it.
     */
    @Override
    public long freeMemory(int ordinal) {
        CUdevice dev = handle(ordinal);
        CUcontext ctx = new CUcontext();
        check("cuDevicePrimaryCtxRetain(" + ordinal + ")", JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev));
        try {
            check("cuCtxPushCurrent", JCudaDriver.cuCtxPushCurrent(ctx));
            try {
                long[] free = new long[1], total = new long[1];
                check("cuMemGetInfo", JCudaDriver.cuMemGetInfo(free, total));
                return free[0];
            } finally {
                JCudaDriver.cuCtxPopCurrent(new CUcontext());
            }
        } finally {
            JCudaDriver.cuDevicePrimaryCtxRelease(dev);
        }
    }

    static CUdevice handle(int ordinal) {
        CUdevice dev = new CUdevice();
        check("cuDeviceGet(" + ordinal + ")", JCudaDriver.cuDeviceGet(dev, ordinal));
        return dev;
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = new int[1];
        check("cuDeviceGetAttribute(" + attribute + ")", JCudaDriver.cuDeviceGetAttribute(v, attribute, dev));
        return v[0];
    }
}
