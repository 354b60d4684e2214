package dev.floe.spi;

/**
 * This process's rank of a group of processes, one device each ({@link BackendProvider#joinGroup}): its backend and
 * its communicator, which joins it to the other processes' ranks.
 */
public record GroupMember(Backend backend, Communicator communicator) implements AutoCloseable {
    public GroupMember {
        if (backend == null || communicator == null) throw new IllegalArgumentException("group member: backend and communicator are required");
    }

    /** Closes the communicator, then the backend. */
    @Override
    public void close() {
        try {
            communicator.close();
        } finally {
            backend.close();
        }
    }
}
