package dev.floe.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A dedicated fork-join of {@code threads - 1} daemon workers plus the calling thread. Kernels are short (tens of
 * microseconds at decode), so an idle worker spins briefly before parking: the next kernel usually arrives while it
 * is still spinning, which avoids a wake-up latency per call. One job runs at a time (backend calls come from one
 * thread).
 */
final class WorkerPool implements AutoCloseable {
    /** How long an idle worker spins before parking, in nanoseconds. */
    private static final long SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private volatile Job job;
    private volatile long generation;
    private volatile boolean closed;
    /** Jobs handed to the workers (a run on the calling thread alone is not one). */
    private volatile long jobs;

    WorkerPool(int threads, String name) {
        if (threads < 1) throw new IllegalArgumentException("threads must be positive: " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name(name + "-" + (i + 1)).unstarted(this::workLoop);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Jobs handed to the workers since the pool started. */
    long jobs() {
        return jobs;
    }

    /**
     * Runs {@code body.accept(t)} for every task {@code t} in {@code [0, tasks)} across the pool and waits for all of
     * them. The first exception thrown by a task is rethrown here.
     */
    void run(int tasks, IntConsumer body) {
        if (closed) throw new IllegalStateException("worker pool is closed");
        if (tasks <= 0) return;
        if (tasks == 1 || workers.length == 0) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        jobs = jobs + 1; // one caller at a time
        Job j = new Job(body, tasks, Thread.currentThread());
        job = j;
        generation = generation + 1;
        for (Thread w : workers) LockSupport.unpark(w);
        j.work();
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (j.done.get() < tasks) {
            if (System.nanoTime() < spinUntil) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        job = null;
        Throwable error = j.error;
        if (error instanceof RuntimeException e) throw e;
        if (error instanceof Error e) throw e;
        if (error != null) throw new IllegalStateException(error);
    }

    private void workLoop() {
        long seen = 0;
        while (!closed) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            seen = generation;
            Job j = job;
            if (j != null) j.work();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }

    private static final class Job {
        final IntConsumer body;
        final int tasks;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable error;

        Job(IntConsumer body, int tasks, Thread caller) {
            this.body = body;
            this.tasks = tasks;
            this.caller = caller;
        }

        void work() {
            int t;
            while ((t = next.getAndIncrement()) < tasks) {
                try {
                    if (error == null) body.accept(t);
                } catch (Throwable e) {
                    if (error == null) error = e;
                } finally {
                    if (done.incrementAndGet() == tasks) LockSupport.unpark(caller);
                }
            }
        }
    }
}
