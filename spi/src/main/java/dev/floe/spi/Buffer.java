package dev.floe.spi;

/** A float32 activation buffer in a backend's memory. Created by {@link Backend#allocate}. */
public interface Buffer extends AutoCloseable {
    /** Capacity in floats. */
    long floats();

    /** Frees the memory; using the buffer afterwards is an error. Idempotent. */
    @Override
    void close();
}
