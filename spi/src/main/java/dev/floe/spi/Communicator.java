package dev.floe.spi;

/**
 * Collectives between the ranks of a tensor-, pipeline- or expert-parallel group, one rank per device. Buffers are
 * those of the backend the communicator was made for. Calls are collective: every rank makes the same calls in the
 * same order.
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

    @Override
    void close();
}
