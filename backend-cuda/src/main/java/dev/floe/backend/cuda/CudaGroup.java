package dev.floe.backend.cuda;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The CUDA device group of one process: one rank, this process's GPU, with an NCCL communicator of world size 1 (the
 * unique id handed to itself through a temporary rendezvous file). It runs the parallel layer graph on one GPU with
 * real NCCL collectives ({@code gpu-check.sh}). Several GPUs are one process each, joined by the launch rendezvous;
 * that multi-process group is not wired yet, so a larger group is refused, and the provider does not advertise
 * {@link dev.floe.spi.Capability#COLLECTIVES}.
 */
final class CudaGroup implements DeviceGroup {
    private final CudaBackend backend;
    private final Communicator communicator;
    private volatile Throwable aborted;

    private CudaGroup(CudaBackend backend, Communicator communicator) {
        this.backend = backend;
        this.communicator = communicator;
    }

    /** Opens the backend and joins an NCCL group of one; frees the backend if NCCL fails. */
    static CudaGroup open(CudaBackend backend) {
        Path file = null;
        try {
            file = Files.createTempFile("floe-nccl-", ".id");
            Files.delete(file); // rank 0 publishes it; only the name was wanted
            Communicator c = backend.communicator(0, 1, new NcclRendezvous(file, Duration.ofSeconds(30)));
            return new CudaGroup(backend, c);
        } catch (IOException e) {
            backend.close();
            throw new BackendException("cuda: no temporary file for the NCCL id: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a stale id file in the temporary folder is harmless: its name is unique
                }
            }
        }
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public Backend backend(int rank) {
        check(rank);
        return backend;
    }

    @Override
    public Communicator communicator(int rank) {
        check(rank);
        if (aborted != null) throw new BackendException("the group was aborted: " + aborted.getMessage(), aborted);
        return communicator;
    }

    private static void check(int rank) {
        if (rank != 0) throw new IllegalArgumentException("rank " + rank + " outside [0, 1)");
    }

    @Override
    public void abort(Throwable cause) {
        if (aborted == null) aborted = cause; // one rank: nobody else waits on a collective
    }

    @Override
    public void close() {
        communicator.close();
        backend.close();
    }
}
