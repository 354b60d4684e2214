package dev.floe.api;

import java.util.List;

/**
 * A scheduler's answer for one step.
 *
 * @param chunks  for each sequence in the pass, how many of its pending tokens to feed
 * @param preempt running sequences to evict (their KV is freed; they are recomputed later)
 */
public record StepPlan(List<Chunk> chunks, List<Long> preempt) {
    public StepPlan {
        chunks = List.copyOf(chunks);
        preempt = List.copyOf(preempt);
    }

    /** Feed {@code tokens} pending tokens of sequence {@code sequenceId}. */
    public record Chunk(long sequenceId, int tokens) {
        public Chunk {
            if (tokens < 1) throw new IllegalArgumentException("chunk of sequence " + sequenceId + " has " + tokens + " tokens");
        }
    }

    public int totalTokens() {
        return chunks.stream().mapToInt(Chunk::tokens).sum();
    }
}
