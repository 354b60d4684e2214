package dev.floe.runtime.parallel;

import dev.floe.spi.BackendException;
import dev.floe.spi.DeviceGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one body per rank of an in-process {@link DeviceGroup}, each on its own thread, and gathers the results in rank
 * order. The first rank to fail {@linkplain DeviceGroup#abort aborts} the group, so the others stop waiting in their
 * collectives; the error thrown names that rank and its cause (the others' consequent failures are attached as
 * suppressed), never the symptom on another rank.
 */
public final class RankThreads {
    private RankThreads() {
    }

    /** What one rank computes. */
    @FunctionalInterface
    public interface Body<T> {
        T run(int rank) throws Exception;
    }

    public static <T> List<T> run(DeviceGroup group, Body<T> body) {
        int n = group.size();
        List<T> results = new ArrayList<>(java.util.Collections.nCopies(n, null));
        Throwable[] failures = new Throwable[n];
        AtomicReference<Integer> first = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            threads.add(Thread.ofPlatform().name("rank-" + rank).start(() -> {
                try {
                    results.set(rank, body.run(rank));
                } catch (Throwable t) {
                    failures[rank] = t;
                    if (first.compareAndSet(null, rank)) group.abort(new BackendException("rank " + rank + " failed: " + describe(t), t));
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                group.abort(new BackendException("interrupted while waiting for the ranks"));
                throw new BackendException("interrupted while waiting for the ranks", e);
            }
        }
        Integer origin = first.get();
        if (origin == null) return results;
        BackendException e = new BackendException("rank " + origin + " failed: " + describe(failures[origin]), failures[origin]);
        for (int r = 0; r < n; r++) if (r != origin && failures[r] != null) e.addSuppressed(failures[r]);
        throw e;
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
