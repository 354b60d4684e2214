package dev.floe.spi;

/**
 * Collectives between the ranks of a tensor-, pipeline- or expert-parallel group, one rank per device, with NCCL's
 * semantics. Buffers are those of the backend the communicator was made for. Calls are collective: every rank makes
 * the same calls in the same order with matching sizes; a mismatch, or a rank that fails, is an error on every rank
 * (never a hang, where the implementation can detect it). The operations after {@link #allToAll} were added later:
 * their defaults refuse, naming the operation, for implementations written before them.
 */
public interface Communicator extends AutoCloseable {
    int rank();

    int size();

    /** Sums {@code n} floats of {@code buffer} over all ranks, in place. */
    void allReduceSum(Buffer buffer, long n);

    /** Gathers {@code n} floats from every rank into {@code recv} ({@code size * n} floats, rank order). */
    void allGather(Buffer send, long n, Buffer recv);

    /**
     * Exchanges variable-sized slices with every rank at once (the expert-parallel all-to-all): sends
     * {@code sendCounts[j]} floats starting at {@code sendOffsets[j]} to rank j and receives
     * {@code recvCounts[j]} floats at {@code recvOffsets[j]} from rank j.
     */
    void allToAll(Buffer send, long[] sendOffsets, long[] sendCounts, Buffer recv, long[] recvOffsets, long[] recvCounts);

    /**
     * Sums {@code n} floats per rank over all ranks and leaves rank r's share: {@code send} holds {@code size * n}
     * floats (rank j's share at {@code j * n}); {@code recv} receives the {@code n} summed floats of this rank.
     */
    default void reduceScatterSum(Buffer send, long n, Buffer recv) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not implement reduceScatterSum");
    }

    /** Copies {@code n} floats of rank {@code root}'s {@code buffer} into every rank's {@code buffer}. */
    default void broadcast(Buffer buffer, long n, int root) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not implement broadcast");
    }

    /** Returns once every rank has called it. */
    default void barrier() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not implement barrier");
    }

    @Override
    void close();
}
