package dev.floe.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;

/**
 * Hands NCCL's 128-byte unique id from rank 0 to the other ranks through a file, one process per GPU: rank 0
 * writes the id to {@code FLOE_NCCL_ID_FILE} (a temporary file, then an atomic rename, so readers never see half
 * an id); the other ranks wait until the file appears and read it. The file must be on a file system all ranks
 * see (local disk for one machine; a shared mount across machines). Rank 0 replaces any file left by an earlier
 * job, but a rank started before rank 0 could read such a stale id: delete the file between jobs (the launch
 * script in {@code docs/backend-cuda.md} does).
 */
final class NcclRendezvous {
    static final String ENV = "FLOE_NCCL_ID_FILE";
    static final int ID_BYTES = 128;

    private final Path file;
    private final Duration timeout;

    NcclRendezvous(Path file, Duration timeout) {
        this.file = file;
        this.timeout = timeout;
    }

    /** The rendezvous named by the environment variable {@value #ENV}. */
    static NcclRendezvous fromEnvironment(Duration timeout) {
        String f = System.getenv(ENV);
        if (f == null || f.isBlank()) {
            throw new IllegalStateException("NCCL rendezvous: set " + ENV + " to a file all ranks can read");
        }
        return new NcclRendezvous(Path.of(f), timeout);
    }

    Path file() {
        return file;
    }

    /** Rank 0: publishes the id. */
    void publish(byte[] id) {
        if (id.length != ID_BYTES) throw new IllegalArgumentException("NCCL unique id has " + id.length + " bytes, expected " + ID_BYTES);
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".part");
            Files.write(tmp, id);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IllegalStateException("NCCL rendezvous: cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Other ranks: waits for the id, polling, until the timeout passes. */
    byte[] await() {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (Files.isRegularFile(file) && Files.size(file) == ID_BYTES) {
                    return Arrays.copyOf(Files.readAllBytes(file), ID_BYTES);
                }
            } catch (IOException e) {
                // the file is being replaced; try again
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("NCCL rendezvous: no id in " + file + " after " + timeout.toSeconds()
                        + " s (is rank 0 running, and is " + ENV + " the same file for every rank?)");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("NCCL rendezvous interrupted while waiting for " + file, e);
            }
        }
    }
}
