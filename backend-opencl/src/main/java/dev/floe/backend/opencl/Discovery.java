package dev.floe.backend.opencl;

import dev.floe.spi.BackendException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.lwjgl.opencl.CL10.*;

/** Lists the devices of every OpenCL platform. Requires {@link OpenClLibrary#load} to have succeeded. */
final class Discovery {
    private static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private Discovery() {
    }

    /**
     * What discovery found: every device of every platform that answered, and why the others did not (a broken
     * driver of one vendor must not hide the devices of another).
     */
    record Found(List<ClDevice> devices, List<String> problems) {
    }

    /** Every device of every platform, in platform order. */
    static Found devices() {
        List<ClDevice> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            int err = clGetPlatformIDs(null, count);
            if (err == CL_PLATFORM_NOT_FOUND_KHR || err == CL_SUCCESS && count.get(0) == 0) {
                problems.add("the ICD loader lists no OpenCL platform");
                return new Found(out, problems);
            }
            ClErrors.check(err, "clGetPlatformIDs");
            int platforms = count.get(0);
            PointerBuffer ids = stack.mallocPointer(platforms);
            ClErrors.check(clGetPlatformIDs(ids, (IntBuffer) null), "clGetPlatformIDs");
            for (int p = 0; p < platforms; p++) {
                try {
                    platformDevices(p, ids.get(p), out, problems);
                } catch (BackendException e) {
                    problems.add("platform " + p + ": " + e.getMessage());
                }
            }
        }
        return new Found(out, problems);
    }

    private static void platformDevices(int index, long platform, List<ClDevice> out, List<String> problems) {
        String platformName = platformString(platform, CL_PLATFORM_NAME);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            int err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, n);
            if (err == CL_DEVICE_NOT_FOUND || err == CL_SUCCESS && n.get(0) == 0) {
                problems.add("platform " + index + " (" + platformName + ") has no device");
                return;
            }
            ClErrors.check(err, "clGetDeviceIDs(" + platformName + ")");
            PointerBuffer devs = stack.mallocPointer(n.get(0));
            ClErrors.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, devs, (IntBuffer) null),
                    "clGetDeviceIDs(" + platformName + ")");
            for (int d = 0; d < n.get(0); d++) out.add(describe(index, platformName, devs.get(d)));
        }
    }

    private static ClDevice describe(int platformIndex, String platformName, long device) {
        long type = deviceLong(device, CL_DEVICE_TYPE);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU"
                : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "device";
        return new ClDevice(platformIndex, platformName, device, deviceString(device, CL_DEVICE_NAME).strip(),
                (type & CL_DEVICE_TYPE_GPU) != 0, typeName, shortVersion(deviceString(device, CL_DEVICE_VERSION)),
                deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceLong(device, CL_DEVICE_LOCAL_MEM_SIZE), devicePointer(device, CL_DEVICE_MAX_WORK_GROUP_SIZE));
    }

    /** "OpenCL 3.0 PoCL HSTR: pthread-..." becomes "OpenCL 3.0 PoCL": the version and the vendor's word. */
    static String shortVersion(String version) {
        String[] words = version.strip().split("\\s+");
        return String.join(" ", java.util.Arrays.copyOf(words, Math.min(3, words.length)));
    }

    private static String platformString(long platform, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(clGetPlatformInfo(platform, param, (ByteBuffer) null, size), "clGetPlatformInfo");
            ByteBuffer bytes = stack.malloc((int) size.get(0));
            ClErrors.check(clGetPlatformInfo(platform, param, bytes, null), "clGetPlatformInfo");
            return cString(bytes);
        }
    }

    static String deviceString(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, param, (ByteBuffer) null, size), "clGetDeviceInfo");
            ByteBuffer bytes = stack.malloc((int) size.get(0));
            ClErrors.check(clGetDeviceInfo(device, param, bytes, null), "clGetDeviceInfo");
            return cString(bytes);
        }
    }

    /** A {@code cl_ulong} or {@code cl_bitfield} device property. */
    private static long deviceLong(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer value = stack.mallocLong(1);
            ClErrors.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    /** A {@code size_t} device property. */
    private static long devicePointer(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer value = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    private static String cString(ByteBuffer bytes) {
        int end = 0;
        while (end < bytes.limit() && bytes.get(end) != 0) end++;
        byte[] b = new byte[end];
        bytes.get(0, b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
