package dev.floe.runtime.serving;

import java.util.Arrays;

/** A latency histogram with fixed bucket bounds in seconds, in the shape Prometheus exposes. Thread-safe. */
public final class Histogram {
    /** Bucket upper bounds in seconds, from 1 ms to 60 s. */
    public static final double[] BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final long[] counts = new long[BOUNDS.length + 1];
    private long count;
    private double sum;

    public synchronized void record(long nanos) {
        double seconds = nanos / 1e9;
        int i = 0;
        while (i < BOUNDS.length && seconds > BOUNDS[i]) i++;
        counts[i]++;
        count++;
        sum += seconds;
    }

    /** A consistent copy. */
    public synchronized Snapshot snapshot() {
        long[] cumulative = new long[counts.length];
        long running = 0;
        for (int i = 0; i < counts.length; i++) {
            running += counts[i];
            cumulative[i] = running;
        }
        return new Snapshot(cumulative, count, sum);
    }

    /** Cumulative bucket counts (the last is +Inf), the count and the sum in seconds. */
    public record Snapshot(long[] cumulative, long count, double sum) {
        public Snapshot {
            cumulative = cumulative.clone();
        }

        @Override
        public long[] cumulative() {
            return cumulative.clone();
        }

        @Override
        public String toString() {
            return "Snapshot[count=" + count + ", sum=" + sum + ", buckets=" + Arrays.toString(cumulative) + "]";
        }
    }
}
