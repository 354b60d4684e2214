package dev.floe.backend.cuda;

import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Communicator} over NCCL, one process per GPU: rank 0 makes the unique id and publishes it through an
 * {@link NcclRendezvous}, every rank joins with {@code ncclCommInitRank}. Collectives run on the backend's stream,
 * so they are ordered with its kernels; the all-to-all is a group of {@code ncclSend}/{@code ncclRecv} pairs.
 */
final class NcclCommunicator implements Communicator {
    private final Nccl nccl;
    private final CudaBackend backend;
    private final MemorySegment comm;
    private final int rank;
    private final int size;
    private boolean closed;

    private NcclCommunicator(Nccl nccl, CudaBackend backend, MemorySegment comm, int rank, int size) {
        this.nccl = nccl;
        this.backend = backend;
        this.comm = comm;
        this.rank = rank;
        this.size = size;
    }

    /** Joins the group as {@code rank} of {@code size}; blocks until every rank has joined. */
    static NcclCommunicator join(Nccl nccl, CudaBackend backend, int rank, int size, NcclRendezvous rendezvous) {
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " of size " + size);
        backend.context().makeCurrent();
        byte[] id;
        if (rank == 0) {
            id = nccl.uniqueId();
            rendezvous.publish(id);
        } else {
            id = rendezvous.await();
        }
        return join(nccl, backend, rank, size, id);
    }

    /** Joins the group of {@code id} (rank 0's {@code ncclGetUniqueId}, shared at a rendezvous) as {@code rank}. */
    static NcclCommunicator join(Nccl nccl, CudaBackend backend, int rank, int size, byte[] id) {
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " of size " + size);
        if (id == null || id.length != NcclRendezvous.ID_BYTES) {
            throw new IllegalArgumentException("NCCL unique id has " + (id == null ? 0 : id.length) + " bytes, expected " + NcclRendezvous.ID_BYTES);
        }
        backend.context().makeCurrent();
        return new NcclCommunicator(nccl, backend, nccl.initRank(size, id, rank), rank, size);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduceSum(Buffer buffer, long n) {
        long a = address("buffer", buffer, n);
        nccl.allReduceSum(a, a, n, comm(), stream());
    }

    @Override
    public void allGather(Buffer send, long n, Buffer recv) {
        long s = address("send", send, n);
        long r = address("recv", recv, Math.multiplyExact(n, (long) size));
        nccl.allGather(s, r, n, comm(), stream());
    }

    @Override
    public void reduceScatterSum(Buffer send, long n, Buffer recv) {
        long s = address("send", send, Math.multiplyExact(n, (long) size));
        long r = address("recv", recv, n);
        nccl.reduceScatterSum(s, r, n, comm(), stream());
    }

    @Override
    public void broadcast(Buffer buffer, long n, int root) {
        if (root < 0 || root >= size) throw new IllegalArgumentException("broadcast root " + root + " outside [0, " + size + ")");
        long a = address("buffer", buffer, n);
        nccl.broadcast(a, a, n, root, comm(), stream());
    }

    @Override
    public void allToAll(Buffer send, long[] sendOffsets, long[] sendCounts, Buffer recv, long[] recvOffsets,
                         long[] recvCounts) {
        List<Nccl.Transfer> t = transfers(size, address("send", send, 0), send.floats(), sendOffsets, sendCounts,
                address("recv", recv, 0), recv.floats(), recvOffsets, recvCounts);
        nccl.grouped(t, comm(), stream());
    }

    /**
     * Checks the slices of an all-to-all against the buffers and lists its transfers: for each peer j a send of
     * {@code sendCounts[j]} floats at {@code send + 4 * sendOffsets[j]} and a receive likewise.
     */
    static List<Nccl.Transfer> transfers(int size, long send, long sendFloats, long[] sendOffsets, long[] sendCounts,
                                         long recv, long recvFloats, long[] recvOffsets, long[] recvCounts) {
        check("send", size, sendFloats, sendOffsets, sendCounts);
        check("recv", size, recvFloats, recvOffsets, recvCounts);
        List<Nccl.Transfer> out = new ArrayList<>(2 * size);
        for (int j = 0; j < size; j++) {
            out.add(new Nccl.Transfer(true, send + sendOffsets[j] * Float.BYTES, sendCounts[j], j));
            out.add(new Nccl.Transfer(false, recv + recvOffsets[j] * Float.BYTES, recvCounts[j], j));
        }
        return out;
    }

    private static void check(String side, int size, long floats, long[] offsets, long[] counts) {
        if (offsets.length != size || counts.length != size) {
            throw new IllegalArgumentException(side + "Offsets/" + side + "Counts have " + offsets.length + "/" + counts.length
                    + " entries for " + size + " ranks");
        }
        for (int j = 0; j < size; j++) {
            if (offsets[j] < 0 || counts[j] < 0 || offsets[j] + counts[j] > floats) {
                throw new IllegalArgumentException(side + " slice for rank " + j + " [" + offsets[j] + ", "
                        + (offsets[j] + counts[j]) + ") outside the buffer's " + floats + " floats");
            }
        }
    }

    private long address(String argument, Buffer b, long n) {
        if (closed) throw new IllegalStateException("communicator is closed");
        if (!(b instanceof CudaBuffer cb) || cb.owner() != backend) {
            throw new IllegalArgumentException(argument + " is not a buffer of this communicator's CUDA backend");
        }
        Checks.fits(argument, b, n);
        backend.context().makeCurrent();
        return cb.address();
    }

    private MemorySegment comm() {
        return comm;
    }

    private long stream() {
        return backend.context().streamHandle();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        nccl.destroy(comm);
    }
}
