package dev.floe.runtime.model;

/**
 * What the expert cache has done since the model was loaded: requests served by an expert already placed (or being
 * prefetched), requests that placed it on the spot, prefetches started, and evictions; experts and bytes resident
 * now, within {@code capacityBytes} ({@link Long#MAX_VALUE}: unlimited).
 */
public record ExpertCacheStats(long hits, long misses, long prefetched, long evicted, int resident, long residentBytes,
                               long capacityBytes) {
    /** The counts between {@code earlier} and this; resident figures are this one's. */
    public ExpertCacheStats since(ExpertCacheStats earlier) {
        return new ExpertCacheStats(hits - earlier.hits, misses - earlier.misses, prefetched - earlier.prefetched,
                evicted - earlier.evicted, resident, residentBytes, capacityBytes);
    }

    /** The counts and resident figures of two caches together (the ranks of a parallel model). */
    public ExpertCacheStats plus(ExpertCacheStats o) {
        return new ExpertCacheStats(hits + o.hits, misses + o.misses, prefetched + o.prefetched, evicted + o.evicted,
                resident + o.resident, residentBytes + o.residentBytes,
                capacityBytes == Long.MAX_VALUE || o.capacityBytes == Long.MAX_VALUE ? Long.MAX_VALUE : capacityBytes + o.capacityBytes);
    }
}
