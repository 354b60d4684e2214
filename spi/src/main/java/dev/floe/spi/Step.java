package dev.floe.spi;

/**
 * A pass's {@link StepMetadata} in a backend's memory, made once per pass by {@link Backend#step} and read by every
 * layer's kernels. Valid until closed; the runtime closes it when the pass ends.
 */
public interface Step extends AutoCloseable {
    /** What the step holds, as the runtime described it. */
    StepMetadata metadata();

    /** Rows (tokens) of the pass. */
    default int rows() {
        return metadata().rows();
    }

    /** Frees the backend's copy. Idempotent. */
    @Override
    void close();
}
