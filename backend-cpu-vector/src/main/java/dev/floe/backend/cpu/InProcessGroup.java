package dev.floe.backend.cpu;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * cpu-vector's device group: ranks are threads of this JVM, each with its own {@link CpuVectorBackend} (its own
 * worker pool and heap buffers), joined by {@link ThreadCommunicator}s with NCCL's semantics. A test vehicle that makes
 * every parallel code path runnable on any machine, not a distributed engine: a collective copies through the heap.
 *
 * <p>A collective is two barrier phases over one shared table of contributions: each rank posts what it sends, waits
 * for all, checks that every rank called the same operation with matching sizes (a mismatch fails every rank with the
 * same message), computes its result from the others' posts, waits again (so nobody overwrites a buffer another rank
 * is still reading), then writes its result. A rank that fails {@linkplain #abort aborts} the group, which breaks the
 * barrier for the ranks waiting on it; a rank that never arrives fails the others after the timeout.
 */
public final class InProcessGroup implements DeviceGroup {
    /** Option: seconds a rank waits in a collective for the others before the group fails. Default 60. */
    public static final String TIMEOUT = "cpu-vector.group.timeout";

    private final CpuVectorBackend[] backends;
    private final ThreadCommunicator[] communicators;
    final Duration timeout;
    final CyclicBarrier barrier;
    final Post[] posts;
    private final AtomicReference<Throwable> aborted = new AtomicReference<>();
    /** Collectives each rank has entered, to name the ranks that never arrived. */
    private final AtomicLongArray entered;

    /** What one rank contributes to the collective in progress. */
    record Post(String op, long n, int root, float[] send, long[] sendOffsets, long[] sendCounts, long[] recvCounts) {
    }

    InProcessGroup(int size, int threadsPerRank, Duration timeout) {
        if (size < 1) throw new IllegalArgumentException("group size must be positive, got " + size);
        this.timeout = timeout;
        this.barrier = new CyclicBarrier(size);
        this.posts = new Post[size];
        this.entered = new AtomicLongArray(size);
        this.backends = new CpuVectorBackend[size];
        this.communicators = new ThreadCommunicator[size];
        try {
            for (int r = 0; r < size; r++) {
                backends[r] = new CpuVectorBackend(threadsPerRank);
                communicators[r] = new ThreadCommunicator(this, r, backends[r]);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public int size() {
        return backends.length;
    }

    @Override
    public Backend backend(int rank) {
        return backends[check(rank)];
    }

    @Override
    public Communicator communicator(int rank) {
        return communicators[check(rank)];
    }

    private int check(int rank) {
        if (rank < 0 || rank >= backends.length) {
            throw new IllegalArgumentException("rank " + rank + " is outside the group of " + backends.length);
        }
        return rank;
    }

    @Override
    public void abort(Throwable cause) {
        if (aborted.compareAndSet(null, cause)) barrier.reset(); // wakes the waiting ranks with BrokenBarrierException
    }

    /** Throws when the group has been aborted, naming why. */
    void checkAlive(int rank, String op) {
        Throwable cause = aborted.get();
        if (cause != null) throw new BackendException("rank " + rank + " " + op + ": the group was aborted: " + describe(cause), cause);
    }

    /** Counts rank {@code rank} into a new collective. */
    void enter(int rank) {
        entered.incrementAndGet(rank);
    }

    /** Waits for every rank; fails with the group's abort cause, or aborts it on a timeout or interrupt. */
    void await(int rank, String op) {
        checkAlive(rank, op);
        try {
            barrier.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            List<Integer> missing = new ArrayList<>();
            for (int r = 0; r < entered.length(); r++) if (entered.get(r) < entered.get(rank)) missing.add(r);
            abort(new BackendException("rank " + rank + " waited " + timeout.toMillis() + " ms in " + op + " for rank(s) "
                    + missing + ", which never arrived"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(new BackendException("rank " + rank + " was interrupted in " + op));
        } catch (BrokenBarrierException e) {
            // the rank that broke the barrier (timeout, interrupt) records why a moment later: wait for its reason
            for (int i = 0; i < 200 && aborted.get() == null; i++) Thread.onSpinWait();
            for (int i = 0; i < 100 && aborted.get() == null; i++) sleep();
            if (aborted.get() == null) abort(new BackendException("a rank left " + op + " without finishing it"));
        }
        checkAlive(rank, op);
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String describe(Throwable t) {
        if (t.getMessage() == null) return t.toString();
        return t instanceof BackendException ? t.getMessage() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    @Override
    public void close() {
        abort(new BackendException("the group was closed"));
        for (CpuVectorBackend b : backends) if (b != null) b.close();
    }
}
