package dev.floe.runtime.serving;

import dev.floe.runtime.kv.KvBlockManager;

import java.util.List;

/**
 * The engine's side of prefix caching (the pool keeps the blocks, {@link KvBlockManager}): a starting request takes
 * the cached blocks of its prompt's longest cached prefix of whole blocks, and the full blocks a pass computes are
 * registered for later requests. Only blocks computed before a sink window evicted anything are registered: after an
 * eviction a block's keys were computed over a different context than a fresh prompt's. Engine thread only.
 */
final class PrefixCache {
    private final KvBlockManager pool;
    private final ServingMetrics metrics;
    private final int maxBatch;
    private final int cacheLimit;

    PrefixCache(KvBlockManager pool, ServingMetrics metrics, int maxBatch, int cacheLimit) {
        this.pool = pool;
        this.metrics = metrics;
        this.maxBatch = maxBatch;
        this.cacheLimit = cacheLimit;
    }

    /**
     * Before a plan: the first waiting requests (oldest first) take their cached prefixes, so the scheduler sees
     * those tokens computed. A request takes them only if the blocks still free would then hold the rest of it, so
     * held cache blocks never keep the oldest request out (cached blocks no one holds count as free); the first
     * that does not fit stops the walk. {@link #releaseUnplanned} gives back what the plan did not use.
     */
    void reuseForWaiting(List<ActiveRequest> waiting) {
        int seen = 0;
        for (ActiveRequest r : waiting) {
            if (seen++ >= maxBatch) break;
            reuse(r);
            int needed = pool.blocksFor((int) Math.min(r.total(), (long) cacheLimit)) - r.kv.blocks();
            if (pool.freeBlocks() < needed) {
                r.resetKv();
                break;
            }
        }
    }

    /** After a plan: waiting requests it did not start give their cache blocks back (they stay cached). */
    void releaseUnplanned(List<ActiveRequest> waiting, java.util.Set<Long> planned) {
        for (ActiveRequest r : waiting) if (!planned.contains(r.id) && r.kv.blocks() > 0) r.resetKv();
    }

    /**
     * Gives a request without KV the cached blocks of its longest cached prefix and marks their tokens computed: of
     * its prompt, or for a preempted request of its prompt and what it generated. At least its last token is left to
     * compute, for the logits of the next token.
     */
    void reuse(ActiveRequest r) {
        if (r.computed != 0 || r.kv.blocks() != 0) return;
        int bs = pool.blockSize();
        int[] tokens = r.tokenArray();
        // a sink window's cache holds cacheLimit tokens: the taken prefix leaves a block of it for the rest
        int reusable = Math.min((r.total() - 1) / bs, cacheLimit == Integer.MAX_VALUE ? Integer.MAX_VALUE : cacheLimit / bs - 1);
        long hash = 0;
        int hits = 0;
        while (hits < reusable) {
            long h = KvBlockManager.hash(hash, tokens, hits * bs, bs);
            int block = pool.lookup(h, tokens, hits * bs);
            if (block < 0) break;
            r.kv.adopt(block);
            hash = h;
            hits++;
        }
        r.computed = hits * bs;
        r.registered = hits;
        r.lastHash = hash;
    }

    /** Counts a request's start (or restart after preemption) for the hit rate: its tokens, and those taken from the cache. */
    void countStart(ActiveRequest r) {
        metrics.countPrefixLookup(r.total(), r.computed);
    }

    /** Registers the full blocks of {@code r} that its passes have computed since the last call. */
    void register(ActiveRequest r) {
        if (r.evicted != 0) return;
        int bs = pool.blockSize();
        int[] tokens = r.tokenArray();
        while ((r.registered + 1) * bs <= r.computed) {
            long h = KvBlockManager.hash(r.lastHash, tokens, r.registered * bs, bs);
            pool.register(r.kv.block(r.registered), h, tokens, r.registered * bs);
            r.lastHash = h;
            r.registered++;
        }
    }
}
