package dev.floe.spi;

import dev.floe.api.DType;

/**
 * A weight matrix {@code [rows, cols]} (or a vector) placed on a backend by {@link Backend#weight}. It keeps the
 * checkpoint dtype; a quantised weight carries its per-row or scalar scale.
 */
public interface Weight extends AutoCloseable {
    /** The checkpoint name, for error messages. */
    String name();

    DType dtype();

    long rows();

    long cols();

    /** Bytes the weight occupies on the backend (data and scale). */
    long byteSize();

    /** Frees device memory (a zero-copy weight frees nothing). Idempotent. */
    @Override
    void close();
}
