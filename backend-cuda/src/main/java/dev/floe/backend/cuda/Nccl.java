package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** NCCL 2 ({@code libnccl.so.2}) through {@code java.lang.foreign}: the calls {@link NcclCommunicator} needs. */
final class Nccl {
    static final String LIBRARY = "libnccl.so.2";
    static final String PATH_PROPERTY = "floe.nccl.path";
    /** {@code ncclDataType_t} ncclFloat32 and {@code ncclRedOp_t} ncclSum. */
    static final int FLOAT32 = 7;
    static final int SUM = 0;
    /** {@code ncclUniqueId}: a struct of 128 chars, passed by value to ncclCommInitRank. */
    static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(NcclRendezvous.ID_BYTES, JAVA_BYTE).withName("internal"));

    private final MethodHandle getUniqueId, initRank, destroy, allReduce, allGather, send, recv, groupStart, groupEnd,
            errorString, getVersion, broadcast, reduceScatter;

    /** Outcome of {@link #lookup}. */
    sealed interface Lookup permits Available, Unavailable {
    }

    record Available(Nccl nccl) implements Lookup {
    }

    record Unavailable(String reason) implements Lookup {
    }

    /** Finds and binds the library; never throws. */
    static Lookup lookup() {
        return switch (NativeLibrary.open(LIBRARY, PATH_PROPERTY, NativeLibrary.CUDA_DIRS)) {
            case NativeLibrary.Missing m -> new Unavailable("NCCL unavailable: " + m.reason());
            case NativeLibrary.Found f -> {
                try {
                    yield new Available(new Nccl(f.library()));
                } catch (RuntimeException e) {
                    yield new Unavailable("NCCL unavailable: " + e.getMessage());
                }
            }
        };
    }

    private Nccl(NativeLibrary lib) {
        getUniqueId = lib.function("ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        initRank = lib.function("ncclCommInitRank", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        destroy = lib.function("ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        allReduce = lib.function("ncclAllReduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS));
        allGather = lib.function("ncclAllGather", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
                ADDRESS, ADDRESS));
        send = lib.function("ncclSend", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        recv = lib.function("ncclRecv", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        groupStart = lib.function("ncclGroupStart", FunctionDescriptor.of(JAVA_INT));
        groupEnd = lib.function("ncclGroupEnd", FunctionDescriptor.of(JAVA_INT));
        errorString = lib.function("ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        getVersion = lib.function("ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // ncclBroadcast(sendbuff, recvbuff, count, datatype, root, comm, stream)
        broadcast = lib.function("ncclBroadcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS));
        // ncclReduceScatter(sendbuff, recvbuff, recvcount, datatype, op, comm, stream)
        reduceScatter = lib.function("ncclReduceScatter", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS));
    }

    int version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check("ncclGetVersion", (int) getVersion.invokeExact(v));
            return v.get(JAVA_INT, 0);
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("ncclGetVersion failed: " + t, t);
        }
    }

    byte[] uniqueId() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(UNIQUE_ID);
            check("ncclGetUniqueId", (int) getUniqueId.invokeExact(id));
            return id.toArray(JAVA_BYTE);
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("ncclGetUniqueId failed: " + t, t);
        }
    }

    /** {@code ncclCommInitRank}; the CUDA context of the rank's device must be current. */
    MemorySegment initRank(int size, byte[] id, int rank) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment comm = a.allocate(ADDRESS);
            MemorySegment idSeg = a.allocate(UNIQUE_ID);
            MemorySegment.copy(MemorySegment.ofArray(id), 0, idSeg, 0, NcclRendezvous.ID_BYTES);
            check("ncclCommInitRank(rank " + rank + " of " + size + ")", (int) initRank.invokeExact(comm, size, idSeg, rank));
            return comm.get(ADDRESS, 0);
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("ncclCommInitRank failed: " + t, t);
        }
    }

    void destroy(MemorySegment comm) {
        invoke("ncclCommDestroy", () -> (int) destroy.invokeExact(comm));
    }

    void allReduceSum(long send, long recv, long count, MemorySegment comm, long stream) {
        invoke("ncclAllReduce", () -> (int) allReduce.invokeExact(ptr(send), ptr(recv), count, FLOAT32, SUM, comm, ptr(stream)));
    }

    void allGather(long send, long recv, long count, MemorySegment comm, long stream) {
        invoke("ncclAllGather", () -> (int) allGather.invokeExact(ptr(send), ptr(recv), count, FLOAT32, comm, ptr(stream)));
    }

    void broadcast(long send, long recv, long count, int root, MemorySegment comm, long stream) {
        invoke("ncclBroadcast", () -> (int) broadcast.invokeExact(ptr(send), ptr(recv), count, FLOAT32, root, comm, ptr(stream)));
    }

    void reduceScatterSum(long send, long recv, long recvCount, MemorySegment comm, long stream) {
        invoke("ncclReduceScatter", () -> (int) reduceScatter.invokeExact(ptr(send), ptr(recv), recvCount, FLOAT32, SUM, comm, ptr(stream)));
    }

    /** One point-to-point transfer of a grouped exchange. */
    record Transfer(boolean send, long address, long count, int peer) {
    }

    /** {@code ncclGroupStart}, the sends and receives, {@code ncclGroupEnd}: NCCL runs them concurrently. */
    void grouped(List<Transfer> transfers, MemorySegment comm, long stream) {
        invoke("ncclGroupStart", () -> (int) groupStart.invokeExact());
        try {
            for (Transfer t : transfers) {
                if (t.count() == 0) continue;
                if (t.send()) {
                    invoke("ncclSend(peer " + t.peer() + ")", () -> (int) send.invokeExact(ptr(t.address()), t.count(),
                            FLOAT32, t.peer(), comm, ptr(stream)));
                } else {
                    invoke("ncclRecv(peer " + t.peer() + ")", () -> (int) recv.invokeExact(ptr(t.address()), t.count(),
                            FLOAT32, t.peer(), comm, ptr(stream)));
                }
            }
        } finally {
            invoke("ncclGroupEnd", () -> (int) groupEnd.invokeExact());
        }
    }

    private static MemorySegment ptr(long address) {
        return MemorySegment.ofAddress(address);
    }

    @FunctionalInterface
    private interface NcclCall {
        int run() throws Throwable;
    }

    private void invoke(String name, NcclCall call) {
        int result;
        try {
            result = call.run();
        } catch (Throwable t) {
            throw new BackendException(name + " failed: " + t, t);
        }
        check(name, result);
    }

    @SuppressWarnings("restricted") // ncclGetErrorString returns a static C string
    private void check(String call, int result) {
        if (result == 0) return;
        String text;
        try {
            text = ((MemorySegment) errorString.invokeExact(result)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            text = "?";
        }
        throw new BackendException(call + " failed: ncclResult " + result + " (" + text + ")");
    }
}
