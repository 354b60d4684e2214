package dev.floe.runtime.plan;

import java.util.Map;

/**
 * The memory one device needs under a layout: the weights of its shard (on the fullest rank), its share of the KV
 * cache and the activation buffers of one forward pass, against what the device offers after the reserve.
 *
 * @param layout            the split
 * @param weights           the precision the weights are held in
 * @param weightsByCategory the weight bytes by part of the model, in print order
 * @param weightBytes       weight bytes on the fullest device
 * @param kvCacheBytes      KV cache bytes of each device
 * @param activationBytes   activation bytes of each device
 * @param usableBytes       device memory less the reserve
 */
public record MemoryPlan(ParallelLayout layout, WeightPrecision weights, Map<String, Long> weightsByCategory,
                         long weightBytes, long kvCacheBytes, long activationBytes, long usableBytes) {
    public MemoryPlan {
        weightsByCategory = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(weightsByCategory));
    }

    /** Bytes the fullest device needs. */
    public long totalBytes() {
        return weightBytes + kvCacheBytes + activationBytes;
    }

    public boolean fits() {
        return totalBytes() <= usableBytes;
    }

    /** Bytes missing on each device (0 when it fits). */
    public long shortfallBytes() {
        return Math.max(0, totalBytes() - usableBytes);
    }
}
