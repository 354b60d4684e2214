package dev.floe.backend.opencl;

import dev.floe.spi.BackendException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;

/**
 * Floe's kernel program on one context: built once when the backend opens, its kernels created on first use and kept
 * with their work-group sizes. Not thread-safe (kernel arguments are state), like the backend that owns it.
 */
final class ClProgram implements AutoCloseable {
    /** The program's sources, compiled as one unit in this order (each uses what the ones before it define). */
    private static final java.util.List<String> SOURCES = java.util.List.of("kernels.cl", "matvec.cl", "moe.cl", "plan.cl");
    private static final String SOURCE = String.join(" + ", SOURCES);
    private static final String OPTIONS = "-cl-std=CL1.2";

    private final long program;
    private final ClDevice device;
    private final Map<String, Kernel> kernels = new HashMap<>();

    /**
     * A kernel object, the local size its reductions use and the local size of element-wise ranges (powers of two the
     * device and kernel allow).
     */
    record Kernel(String name, long handle, int localSize, int elementLocalSize) {
    }

    /**
     * Preferred work-group sizes. GPUs want wide groups to hide latency. On a CPU (PoCL) one group runs on one core
     * and every barrier of a reduction is a loop over the group's work-items: 8-item reductions decode `small` about
     * 2-3x faster than 64-item ones (BENCHMARKS.md, "OpenCL SPI 2"), while element-wise ranges keep 64 items, which
     * PoCL vectorises.
     */
    private static final int GPU_GROUP = 256, CPU_REDUCTION_GROUP = 8, CPU_ELEMENT_GROUP = 64;

    ClProgram(long context, ClDevice device) {
        this(context, device, source());
    }

    /** Builds {@code source}; a failure throws with the compiler's build log. */
    ClProgram(long context, ClDevice device, String source) {
        this.device = device;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long p = clCreateProgramWithSource(context, source, err);
            ClErrors.check(err.get(0), "clCreateProgramWithSource(" + SOURCE + ")");
            int status = clBuildProgram(p, device.id(), OPTIONS, null, 0L);
            if (status != CL_SUCCESS) {
                String log = buildLog(p, device.id());
                clReleaseProgram(p);
                throw new BackendException("clBuildProgram(" + SOURCE + ", " + OPTIONS + ") failed on " + device.name()
                        + ": " + ClErrors.describe(status) + "; build log:\n" + log);
            }
            this.program = p;
        }
    }

    /** The shared kernel called {@code name} (eager calls set all its arguments each time), created on first use. */
    Kernel kernel(String name) {
        Kernel k = kernels.get(name);
        if (k == null) {
            k = create(name);
            kernels.put(name, k);
        }
        return k;
    }

    /**
     * A kernel object of its own for a caller that sets some arguments once and keeps them (a compiled plan's step):
     * kernel arguments are state of the object, so such a caller must not share it. The caller releases it.
     */
    Kernel create(String name) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long handle = clCreateKernel(program, name, err);
            ClErrors.check(err.get(0), "clCreateKernel(" + name + ")");
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(clGetKernelWorkGroupInfo(handle, device.id(), CL_KERNEL_WORK_GROUP_SIZE, size, null),
                    "clGetKernelWorkGroupInfo(" + name + ")");
            long limit = Math.min(size.get(0), device.maxWorkGroup());
            long preferred = Long.getLong("opencl.workGroupSize", device.gpu() ? GPU_GROUP : CPU_REDUCTION_GROUP);
            int local = Integer.highestOneBit((int) Math.max(1, Math.min(preferred, limit)));
            int element = Integer.highestOneBit((int) Math.max(1, Math.min(device.gpu() ? GPU_GROUP : CPU_ELEMENT_GROUP, limit)));
            return new Kernel(name, handle, local, element);
        }
    }

    /** Releases a kernel object from {@link #create}. */
    void release(Kernel k) {
        clReleaseKernel(k.handle());
    }

    @Override
    public void close() {
        for (Kernel k : kernels.values()) clReleaseKernel(k.handle());
        kernels.clear();
        clReleaseProgram(program);
    }

    private static String buildLog(long program, long device) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size) != CL_SUCCESS) {
                return "(no build log)";
            }
            ByteBuffer log = org.lwjgl.system.MemoryUtil.memAlloc((int) Math.max(1, size.get(0)));
            try {
                clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log, null);
                byte[] b = new byte[log.limit()];
                log.get(0, b);
                return new String(b, StandardCharsets.UTF_8).replace("\0", "").strip();
            } finally {
                org.lwjgl.system.MemoryUtil.memFree(log);
            }
        }
    }

    private static String source() {
        StringBuilder all = new StringBuilder();
        for (String name : SOURCES) {
            try (InputStream in = ClProgram.class.getResourceAsStream(name)) {
                if (in == null) throw new IllegalStateException("kernel source " + name + " is missing from the module");
                all.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read kernel source " + name, e);
            }
        }
        return all.toString();
    }
}
