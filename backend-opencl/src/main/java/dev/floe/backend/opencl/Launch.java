package dev.floe.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import static org.lwjgl.opencl.CL10.*;

/** Sets a kernel's arguments in order and enqueues it; every failure names the kernel and the argument. */
final class Launch {
    private final long queue;
    private final ClProgram.Kernel kernel;
    private int index;

    Launch(long queue, ClProgram.Kernel kernel) {
        this(queue, kernel, 0);
    }

    /** Sets arguments from {@code firstArg} on: those before it keep the values set earlier (a compiled plan's). */
    Launch(long queue, ClProgram.Kernel kernel, int firstArg) {
        this.queue = queue;
        this.kernel = kernel;
        this.index = firstArg;
    }

    /** The power-of-two local size of this kernel's work-groups. */
    int localSize() {
        return kernel.localSize();
    }

    Launch mem(long handle) {
        return checked(clSetKernelArg1p(kernel.handle(), index, handle));
    }

    Launch i(int value) {
        return checked(clSetKernelArg1i(kernel.handle(), index, value));
    }

    Launch l(long value) {
        return checked(clSetKernelArg1l(kernel.handle(), index, value));
    }

    Launch f(float value) {
        return checked(clSetKernelArg1f(kernel.handle(), index, value));
    }

    /** A {@code __local} array of {@code bytes}. */
    Launch local(long bytes) {
        return checked(clSetKernelArg(kernel.handle(), index, bytes));
    }

    /** Most work-items of a one-dimensional launch; the kernels stride over longer ranges. */
    static final long MAX_ITEMS = 1L << 24;

    /**
     * A one-dimensional range for {@code items} elements in groups of the kernel's element-wise local size, capped at
     * {@link #MAX_ITEMS} work-items (kernels loop with the global size as stride).
     */
    void run(long items) {
        int local = kernel.elementLocalSize();
        enqueue(new long[]{roundUp(Math.min(items, MAX_ITEMS), local)}, new long[]{local});
    }

    /** {@code groups0 x groups1} work-groups of {@link #localSize()} x 1 items. */
    void runGroups(long groups0, long groups1) {
        int local = kernel.localSize();
        enqueue(new long[]{groups0 * local, groups1}, new long[]{local, 1});
    }

    /** Two-dimensional range: {@code items0} (rounded up to the element-wise local size) by {@code items1}. */
    void run2(long items0, long items1) {
        int local = kernel.elementLocalSize();
        enqueue(new long[]{roundUp(items0, local), items1}, new long[]{local, 1});
    }

    private void enqueue(long[] global, long[] local) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer g = stack.mallocPointer(global.length);
            PointerBuffer l = stack.mallocPointer(local.length);
            for (int d = 0; d < global.length; d++) {
                g.put(d, global[d]);
                l.put(d, local[d]);
            }
            ClErrors.check(clEnqueueNDRangeKernel(queue, kernel.handle(), global.length, null, g, l, null, null),
                    "clEnqueueNDRangeKernel(" + kernel.name() + ")");
        }
    }

    private Launch checked(int status) {
        ClErrors.check(status, "clSetKernelArg(" + kernel.name() + ", arg " + index + ")");
        index++;
        return this;
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
