package dev.floe.api;

import java.util.List;

/**
 * The engine's state as a scheduler sees it before a step.
 *
 * @param waiting       admitted-to-queue requests not yet running, oldest first
 * @param running       requests with KV blocks, oldest first
 * @param freeKvBlocks  free blocks of the paged KV cache
 * @param blockSize     tokens per KV block
 * @param tokenBudget   most tokens one forward pass should carry
 * @param maxSequences  most sequences one forward pass may carry
 */
public record SchedulerState(List<SequenceView> waiting, List<SequenceView> running, int freeKvBlocks, int blockSize,
                             int tokenBudget, int maxSequences) {
    public SchedulerState {
        waiting = List.copyOf(waiting);
        running = List.copyOf(running);
    }

    /**
     * One request as the scheduler sees it.
     *
     * @param id             request id
     * @param promptTokens   prompt length
     * @param computedTokens tokens whose KV is cached (prompt chunks done plus generated tokens fed back)
     * @param totalTokens    prompt plus generated tokens so far
     * @param kvBlocks       KV blocks it holds
     * @param cacheLimit     most tokens its cache holds: an attention-sink window evicts whole blocks to stay within
     *                       it, so caching more needs no more blocks ({@link Integer#MAX_VALUE} without a window)
     */
    public record SequenceView(long id, int promptTokens, int computedTokens, int totalTokens, int kvBlocks,
                               int cacheLimit) {
        public SequenceView {
            if (cacheLimit < 1) throw new IllegalArgumentException("cacheLimit " + cacheLimit + " is not positive");
        }

        /** A sequence whose cache grows with every token. */
        public SequenceView(long id, int promptTokens, int computedTokens, int totalTokens, int kvBlocks) {
            this(id, promptTokens, computedTokens, totalTokens, kvBlocks, Integer.MAX_VALUE);
        }

        /** The KV blocks it holds once {@code tokens} more are cached (after any eviction from a sink window). */
        public int blocksAfter(int tokens, int blockSize) {
            long cached = Math.min((long) computedTokens + tokens, cacheLimit);
            return (int) ((cached + blockSize - 1) / blockSize);
        }

        /** Tokens still to feed before the next token can be sampled. */
        public int pendingTokens() {
            return totalTokens - computedTokens;
        }

        /** Whether the prompt is fully computed, so the next pass feeds one generated token. */
        public boolean decoding() {
            return computedTokens >= promptTokens;
        }
    }
}
