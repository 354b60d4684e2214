package dev.floe.spi;

/**
 * A group of ranks, one device each, with a {@link Communicator} per rank: what tensor- and expert-parallel code runs
 * on. Obtained from {@link BackendProvider#openGroup}. Rank {@code r} uses {@link #backend backend(r)} for memory and
 * kernels and {@link #communicator communicator(r)} for collectives, from its own thread (or process).
 */
public interface DeviceGroup extends AutoCloseable {
    /** Ranks in the group. */
    int size();

    /** The backend of rank {@code rank}: its own device and memory. */
    Backend backend(int rank);

    /** The communicator of rank {@code rank}. */
    Communicator communicator(int rank);

    /**
     * Fails the group because a rank cannot go on: every rank blocked in a collective, and every later collective,
     * throws a {@link BackendException} that names {@code cause} instead of waiting for the missing rank (NCCL's
     * {@code ncclCommAbort}). Idempotent; the first cause is kept.
     */
    void abort(Throwable cause);

    /** Closes every rank's communicator and backend. */
    @Override
    void close();
}
