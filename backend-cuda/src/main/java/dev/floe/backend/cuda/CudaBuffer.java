package dev.floe.backend.cuda;

import dev.floe.spi.Buffer;

/** A float32 buffer in device memory: a block of the backend's {@link MemoryPool}. */
final class CudaBuffer implements Buffer {
    private final CudaBackend owner;
    private final long address;
    private final long floats;
    private boolean closed;

    CudaBuffer(CudaBackend owner, long address, long floats) {
        this.owner = owner;
        this.address = address;
        this.floats = floats;
    }

    @Override
    public long floats() {
        return floats;
    }

    CudaBackend owner() {
        return owner;
    }

    /** The device address; throws if the buffer was closed. */
    long address() {
        if (closed) throw new IllegalStateException("CUDA buffer of " + floats + " floats is closed");
        return address;
    }

    /** The device address of float {@code index}. */
    long address(long index) {
        return address() + index * Float.BYTES;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.release(address);
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + floats + " floats" + (closed ? ", closed" : "") + "]";
    }
}
