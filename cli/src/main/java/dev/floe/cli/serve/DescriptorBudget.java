package dev.floe.cli.serve;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * How many connections the process can hold open without running out of file descriptors. Each connection takes
 * one descriptor; when accept() fails for want of one, a server spins on the ready listening socket and anything
 * else that opens a file (a class loading a resource, a log) fails too. So the connection limit stays below the
 * descriptor limit, with room for what is open now and a reserve.
 */
final class DescriptorBudget {
    /** Descriptors kept free for everything but connections (files, the JIT, class loading, the selector). */
    static final int RESERVE = 64;
    /** The limit when the descriptor limit is unknown or very high. */
    static final int DEFAULT_CONNECTIONS = 1024;

    private DescriptorBudget() {
    }

    /**
     * The connection limit to use: {@code requested} if positive, else a default; never more than the descriptors
     * left after those open now and {@link #RESERVE}.
     *
     * @throws IllegalStateException when the descriptor limit leaves no room for connections
     */
    static int connections(int requested) {
        int wanted = requested > 0 ? requested : DEFAULT_CONNECTIONS;
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (!(os instanceof com.sun.management.UnixOperatingSystemMXBean unix)) return wanted;
        long max = unix.getMaxFileDescriptorCount(), open = unix.getOpenFileDescriptorCount();
        long room = max - open - RESERVE;
        if (room < 1) {
            throw new IllegalStateException("the descriptor limit of " + max + " (ulimit -n) leaves no room for connections: "
                    + open + " are open and " + RESERVE + " are kept in reserve; raise it");
        }
        return (int) Math.min(wanted, room);
    }
}
