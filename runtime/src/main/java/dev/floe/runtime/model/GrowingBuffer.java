package dev.floe.runtime.model;

import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;

/** A backend buffer reused while it is big enough, replaced by one at least twice its size when not. */
final class GrowingBuffer implements AutoCloseable {
    private final Backend backend;
    private Buffer buffer;
    private long capacity;

    GrowingBuffer(Backend backend) {
        this.backend = backend;
    }

    /** A buffer of at least {@code floats} floats (its contents are not kept when it grows). */
    Buffer atLeast(long floats) {
        if (buffer == null || capacity < floats) {
            if (buffer != null) buffer.close();
            capacity = Math.max(floats, 2 * capacity);
            buffer = backend.allocate(capacity);
        }
        return buffer;
    }

    @Override
    public void close() {
        if (buffer != null) buffer.close();
        buffer = null;
        capacity = 0;
    }
}
