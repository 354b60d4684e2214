package dev.floe.spi;

/** A {@link Plan} a backend has compiled; replayed once per pass. */
public interface CompiledPlan extends AutoCloseable {
    /** Runs the plan for the rows of {@code step}, as {@link Plan#interpret} would. */
    void run(Step step);

    /** Frees what compilation took. Idempotent. */
    @Override
    void close();
}
