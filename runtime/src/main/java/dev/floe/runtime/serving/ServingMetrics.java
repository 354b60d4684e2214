package dev.floe.runtime.serving;

import dev.floe.api.FinishReason;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** What the engine measures: latencies, finished requests by reason, rejections and failures. Thread-safe. */
public final class ServingMetrics {
    private final Histogram timeToFirstToken = new Histogram();
    private final Histogram interTokenLatency = new Histogram();
    private final Map<FinishReason, AtomicLong> finished = new EnumMap<>(FinishReason.class);
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong preemptions = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong prefixQueried = new AtomicLong();
    private final AtomicLong prefixHits = new AtomicLong();
    private final PassCounters passes = new PassCounters();

    ServingMetrics() {
        for (FinishReason r : FinishReason.values()) finished.put(r, new AtomicLong());
    }

    public Histogram timeToFirstToken() {
        return timeToFirstToken;
    }

    public Histogram interTokenLatency() {
        return interTokenLatency;
    }

    /** The forward passes run: their rows, prompt and decode rows, sequences and time. */
    public PassCounters passes() {
        return passes;
    }

    /** Requests that ended, by reason. */
    public long finished(FinishReason reason) {
        return finished.get(reason).get();
    }

    /** Requests refused because the queue was full. */
    public long rejected() {
        return rejected.get();
    }

    /** Requests that ended with an error. */
    public long failed() {
        return failed.get();
    }

    public long preemptions() {
        return preemptions.get();
    }

    public long generatedTokens() {
        return generatedTokens.get();
    }

    /** Tokens looked up in the prefix cache as requests started (a preempted request's prompt and output again on restart). */
    public long prefixCacheQueries() {
        return prefixQueried.get();
    }

    /** Tokens found in the prefix cache, so not computed again. */
    public long prefixCacheHits() {
        return prefixHits.get();
    }

    /** Hits over queries (0 before any query). */
    public double prefixCacheHitRate() {
        long q = prefixQueried.get();
        return q == 0 ? 0 : (double) prefixHits.get() / q;
    }

    void countPrefixLookup(int tokens, int hitTokens) {
        prefixQueried.addAndGet(tokens);
        prefixHits.addAndGet(hitTokens);
    }

    void countFinished(FinishReason reason) {
        finished.get(reason).incrementAndGet();
    }

    void countToken() {
        generatedTokens.incrementAndGet();
    }

    void countRejected() {
        rejected.incrementAndGet();
    }

    void countFailed() {
        failed.incrementAndGet();
    }

    void countPreempted() {
        preemptions.incrementAndGet();
    }
}
