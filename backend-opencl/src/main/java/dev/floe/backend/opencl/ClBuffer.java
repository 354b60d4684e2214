package dev.floe.backend.opencl;

import dev.floe.spi.Buffer;

/** A float32 activation buffer in device memory. */
final class ClBuffer extends DeviceMemory implements Buffer {
    private final long mem;
    private final long floats;

    ClBuffer(OpenClBackend owner, long mem, long floats, long bytes) {
        super(owner, new long[]{mem}, bytes);
        this.mem = mem;
        this.floats = floats;
    }

    long mem() {
        return mem;
    }

    @Override
    public long floats() {
        return floats;
    }

    @Override
    String label() {
        return "buffer of " + floats + " floats";
    }
}
