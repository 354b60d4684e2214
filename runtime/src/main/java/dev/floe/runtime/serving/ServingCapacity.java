package dev.floe.runtime.serving;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;

import java.util.Locale;

/**
 * The KV pool and the batch limit of a server, sized together: the pool holds {@code maxBatch} sequences at full
 * context, so a full batch never preempts (a pool too small for its batch recomputes whole sequences over and over:
 * 16 requests of 1,000 tokens on the built-in model caused 40 preemptions and ran at 40% of the throughput). What is
 * not given is derived from the model and the memory budget; what is given is kept, and said when it cannot hold the
 * batch.
 *
 * @param kvBlocks    blocks in the pool
 * @param maxBatch    most sequences per pass
 * @param blockBytes  bytes of one block (keys and values of every layer, float32)
 * @param perSequence blocks one full-context sequence needs
 * @param note        how the two were chosen, for the startup line
 */
public record ServingCapacity(int kvBlocks, int maxBatch, long blockBytes, int perSequence, String note) {
    /** The batch limit when memory allows it. */
    public static final int DEFAULT_MAX_BATCH = 16;

    /**
     * @param sequenceTokens most tokens one sequence keeps in the cache (the context, or an attention-sink window)
     * @param maxBatch       the batch limit asked for, 0 to derive it
     * @param kvBlocks       the pool size asked for, 0 to derive it
     * @param memoryBudget   bytes the pool may take when it is derived
     */
    public static ServingCapacity plan(ModelConfig c, int blockSize, int sequenceTokens, int maxBatch, int kvBlocks, long memoryBudget) {
        if (maxBatch < 0 || kvBlocks < 0) throw new InvalidRequestException("max batch and KV blocks must be >= 0 (0: derived), got " + maxBatch + " and " + kvBlocks);
        long blockBytes = 2L * c.numLayers() * blockSize * c.numKvHeads() * c.headDim() * Float.BYTES;
        int perSequence = (sequenceTokens + blockSize - 1) / blockSize;
        long affordable = Math.max(perSequence, Math.min(Integer.MAX_VALUE, memoryBudget / blockBytes));
        String budget = mib(memoryBudget);
        if (kvBlocks > 0 && maxBatch > 0) {
            return new ServingCapacity(kvBlocks, maxBatch, blockBytes, perSequence, kvBlocks >= (long) maxBatch * perSequence
                    ? "both given" : "both given; the pool holds " + kvBlocks / perSequence + " full-context sequences, fewer than the batch: long requests will be preempted");
        }
        if (kvBlocks > 0) {
            int batch = (int) Math.max(1, Math.min(DEFAULT_MAX_BATCH, kvBlocks / perSequence));
            return new ServingCapacity(kvBlocks, batch, blockBytes, perSequence, "batch from the given pool (" + kvBlocks / perSequence + " full-context sequences)");
        }
        if (maxBatch > 0) {
            long wanted = (long) maxBatch * perSequence;
            int blocks = (int) Math.min(wanted, affordable);
            return new ServingCapacity(blocks, maxBatch, blockBytes, perSequence, blocks == wanted
                    ? "pool for the given batch at full context"
                    : "pool capped by the memory budget of " + budget + ": it holds " + blocks / perSequence + " full-context sequences, fewer than the batch");
        }
        int batch = (int) Math.max(1, Math.min(DEFAULT_MAX_BATCH, affordable / perSequence));
        return new ServingCapacity(batch * perSequence, batch, blockBytes, perSequence,
                "both from the memory budget of " + budget + " (" + (affordable / perSequence) + " full-context sequences fit)");
    }

    /** A quarter of the machine's (or container's) memory: room for weights, activations and the OS besides. */
    public static long defaultMemoryBudget() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long total = os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : Runtime.getRuntime().maxMemory();
        return total / 4;
    }

    /** The startup line's words. */
    public String describe() {
        return String.format(Locale.ROOT, "KV pool %d blocks (%s, %d full-context sequences of %d blocks), max batch %d: %s",
                kvBlocks, mib(kvBlocks * blockBytes), kvBlocks / perSequence, perSequence, maxBatch, note);
    }

    private static String mib(long bytes) {
        return bytes >= 10L << 30 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
    }
}
