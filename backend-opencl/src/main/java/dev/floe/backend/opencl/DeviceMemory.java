package dev.floe.backend.opencl;

import static org.lwjgl.opencl.CL10.clReleaseMemObject;

/**
 * Device memory objects owned by one {@link OpenClBackend}: a buffer, a weight, a KV cache or a pass's step. Freed once, by closing
 * it or the backend; OpenCL defers the release of a memory object until the kernels already queued on it are done,
 * so freeing never races a running kernel.
 */
abstract sealed class DeviceMemory permits ClBuffer, ClWeight, ClKvCache, ClStep {
    private final OpenClBackend owner;
    private final long[] handles;
    private final long bytes;
    private boolean freed;

    DeviceMemory(OpenClBackend owner, long[] handles, long bytes) {
        this.owner = owner;
        this.handles = handles.clone();
        this.bytes = bytes;
    }

    final OpenClBackend owner() {
        return owner;
    }

    /** Device bytes held. */
    final long bytes() {
        return bytes;
    }

    final boolean freed() {
        return freed;
    }

    /** What this is, for error messages. */
    abstract String label();

    /** Hands the memory back to the backend (idempotent). */
    public void close() {
        owner.release(this);
    }

    /** Releases the memory objects; called by the owner only. */
    final void free() {
        if (freed) return;
        freed = true;
        for (long h : handles) if (h != 0) clReleaseMemObject(h);
    }
}
