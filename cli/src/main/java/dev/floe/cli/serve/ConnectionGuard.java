package dev.floe.cli.serve;

import org.eclipse.jetty.io.Connection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Deadlines the server's idle timeout cannot give: a connection that dribbles a request's headers (a byte now and
 * then resets an idle timer) is closed {@code headerTimeout} after their first byte, and when the connection limit
 * is nearly reached, connections that are not serving a request are closed after a short grace, so that slow or
 * half-open clients cannot hold every slot while real requests wait in the accept queue. A sweep every 250 ms
 * looks at each open connection; the handler marks when a connection is busy with a request.
 */
final class ConnectionGuard implements Connection.Listener, AutoCloseable {
    /** A connection that is not serving a request may stay this long when the limit is nearly reached. */
    static final long PRESSURE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long SWEEP_MILLIS = 250;

    private final long headerTimeoutNanos;
    private final int maxConnections;
    private final Map<Connection, Tracked> open = new ConcurrentHashMap<>();
    private final AtomicLong headerTimeouts = new AtomicLong();
    private final AtomicLong shedUnderPressure = new AtomicLong();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "floe-connection-guard");
        t.setDaemon(true);
        return t;
    });

    /** What the guard knows of one connection. */
    private static final class Tracked {
        volatile boolean busy;
        /** When the connection last became ready for a request (opened, or its last response finished). */
        volatile long readyAt;
        volatile long bytesAtReady;
        /** When the sweep first saw bytes of the next request, 0 before. */
        volatile long headersStartedAt;

        Tracked(long now, long bytes) {
            ready(now, bytes);
        }

        void ready(long now, long bytes) {
            readyAt = now;
            bytesAtReady = bytes;
            headersStartedAt = 0;
            busy = false;
        }
    }

    ConnectionGuard(long headerTimeoutNanos, int maxConnections) {
        this.headerTimeoutNanos = headerTimeoutNanos;
        this.maxConnections = maxConnections;
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onOpened(Connection connection) {
        open.put(connection, new Tracked(System.nanoTime(), connection.getBytesIn()));
    }

    @Override
    public void onClosed(Connection connection) {
        open.remove(connection);
    }

    /** The handler started serving a request on {@code connection}. */
    void busy(Connection connection) {
        Tracked t = open.get(connection);
        if (t != null) t.busy = true;
    }

    /** The handler finished serving a request on {@code connection}. */
    void ready(Connection connection) {
        Tracked t = open.get(connection);
        if (t != null) t.ready(System.nanoTime(), connection.getBytesIn());
    }

    int openConnections() {
        return open.size();
    }

    long headerTimeouts() {
        return headerTimeouts.get();
    }

    long shedUnderPressure() {
        return shedUnderPressure.get();
    }

    private void sweep() {
        try {
            long now = System.nanoTime();
            boolean pressure = open.size() >= Math.max(1, maxConnections - Math.max(1, maxConnections / 10));
            for (Map.Entry<Connection, Tracked> e : open.entrySet()) {
                Tracked t = e.getValue();
                if (t.busy) continue;
                Connection c = e.getKey();
                if (t.headersStartedAt == 0 && c.getBytesIn() > t.bytesAtReady) t.headersStartedAt = now;
                if (t.headersStartedAt != 0 && now - t.headersStartedAt > headerTimeoutNanos) {
                    headerTimeouts.incrementAndGet();
                    close(c);
                } else if (pressure && now - t.readyAt > PRESSURE_GRACE_NANOS) {
                    shedUnderPressure.incrementAndGet();
                    close(c);
                }
            }
        } catch (RuntimeException e) {
            // a sweep must never stop the schedule; the next one looks again
        }
    }

    private static void close(Connection c) {
        c.getEndPoint().close();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
