package dev.floe.spi;

/** A paged key/value cache in a backend's memory, created by {@link Backend#kvCache}. */
public interface KvCache extends AutoCloseable {
    KvLayout layout();

    /** Frees the memory. Idempotent. */
    @Override
    void close();
}
