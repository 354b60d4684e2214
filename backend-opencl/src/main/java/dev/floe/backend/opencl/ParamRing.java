package dev.floe.backend.opencl;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;

import static org.lwjgl.opencl.CL10.*;

/**
 * Carries the small host arrays that parameterise kernels (token ids, positions, slots, block tables, angles) to the
 * device without stalling the queue: each array is copied into a host staging ring and written by a non-blocking
 * {@code clEnqueueWriteBuffer} into the same place of a device ring, which the kernel then reads at that offset.
 *
 * <p>Safety rests on the in-order queue: a later write to a device region runs after every earlier kernel that read
 * it, and the host region is only reused after the queue drained ({@link #drained()}, or a {@code clFinish} when the
 * ring is full). An array larger than the ring grows it (after draining the queue).
 */
final class ParamRing implements AutoCloseable {
    private static final int ALIGN = 128;

    private final long context;
    private final long queue;
    private long mem;
    private ByteBuffer host;
    private long size;
    private long cursor;

    /** Where an array landed: the device ring and the index (in 4-byte elements) of its first element. */
    record Slice(long mem, long offset) {
    }

    ParamRing(long context, long queue, long bytes) {
        this.context = context;
        this.queue = queue;
        allocate(bytes);
    }

    /** Device bytes held. */
    long bytes() {
        return size;
    }

    Slice ints(int[] values, int n) {
        ByteBuffer at = reserve((long) n * Integer.BYTES);
        at.asIntBuffer().put(values, 0, n);
        return commit((long) n * Integer.BYTES);
    }

    Slice floats(float[] values, int offset, int n) {
        ByteBuffer at = reserve((long) n * Float.BYTES);
        at.asFloatBuffer().put(values, offset, n);
        return commit((long) n * Float.BYTES);
    }

    /** The queue is empty (after a blocking read or clFinish): the whole ring is free again. */
    void drained() {
        cursor = 0;
    }

    @Override
    public void close() {
        if (mem != 0) clReleaseMemObject(mem);
        if (host != null) MemoryUtil.memFree(host);
        mem = 0;
        host = null;
    }

    /** A little-endian view of the staging memory at the cursor with room for {@code bytes}. */
    private ByteBuffer reserve(long bytes) {
        long need = roundUp(Math.max(bytes, 1), ALIGN);
        if (cursor + need > size) {
            ClErrors.check(clFinish(queue), "clFinish(parameter ring full)");
            cursor = 0;
            if (need > size) {
                close();
                allocate(Math.max(need, 2 * size));
            }
        }
        return MemoryUtil.memByteBuffer(MemoryUtil.memAddress(host) + cursor, (int) need)
                .order(java.nio.ByteOrder.nativeOrder());
    }

    private Slice commit(long bytes) {
        long at = cursor;
        if (bytes > 0) {
            ClErrors.check(nclEnqueueWriteBuffer(queue, mem, CL_FALSE, at, bytes, MemoryUtil.memAddress(host) + at,
                    0, 0L, 0L), "clEnqueueWriteBuffer(kernel parameters, " + bytes + " bytes)");
        }
        cursor += roundUp(Math.max(bytes, 1), ALIGN);
        return new Slice(mem, at / 4);
    }

    private void allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE) throw new IllegalArgumentException("kernel parameters of " + bytes + " bytes");
        host = MemoryUtil.memAlloc((int) bytes);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            mem = clCreateBuffer(context, CL_MEM_READ_ONLY, bytes, err);
            if (err.get(0) != CL_SUCCESS) {
                MemoryUtil.memFree(host);
                host = null;
                mem = 0;
                throw ClErrors.failure("clCreateBuffer(kernel parameter ring, " + bytes + " bytes)", err.get(0));
            }
        }
        size = bytes;
        cursor = 0;
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
