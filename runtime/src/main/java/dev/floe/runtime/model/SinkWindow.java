package dev.floe.runtime.model;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.kv.SequenceKv;

/**
 * Attention-sink (StreamingLLM) settings: keep the first {@code sinkTokens} tokens plus a window of the most recent
 * {@code windowTokens}, so that generation can run past the model's context. Eviction works in whole KV blocks, so
 * the sink is rounded up to whole blocks (exactly {@code sinkTokens} when it is a multiple of {@code kv.block-size}).
 *
 * @param sinkTokens   first tokens always kept (ModelOptions property {@code attention.sink}, default 4)
 * @param windowTokens recent tokens kept (property {@code attention.window})
 */
public record SinkWindow(int sinkTokens, int windowTokens) {
    public SinkWindow {
        if (sinkTokens < 0) throw new InvalidRequestException("attention.sink must be >= 0, got " + sinkTokens);
        if (windowTokens < 1) throw new InvalidRequestException("attention.window must be >= 1, got " + windowTokens);
    }

    /**
     * What the window means in KV blocks of {@code blockSize} tokens, checked against the model's context.
     *
     * @throws InvalidRequestException when the window spans fewer than two blocks or sink + window exceed the context
     */
    public Layout layout(int blockSize, int maxPositions) {
        int sinkBlocks = sinkBlocks(blockSize);
        int windowBlocks = windowBlocks(blockSize);
        if (windowBlocks < 2) {
            throw new InvalidRequestException("attention.window " + windowTokens + " must span at least two KV blocks of "
                    + blockSize + " tokens");
        }
        int capacity = (sinkBlocks + windowBlocks) * blockSize;
        if (capacity > maxPositions) {
            throw new InvalidRequestException("attention.sink + attention.window = " + capacity + " tokens (in whole blocks of "
                    + blockSize + ") exceed the model's context of " + maxPositions);
        }
        // a chunk must fit after evicting whole window blocks, the newest (partial) one excepted
        return new Layout(blockSize, sinkBlocks, capacity, Math.min(LayerGraph.MAX_ROWS, (windowBlocks - 1) * blockSize));
    }

    /**
     * A window in blocks.
     *
     * @param sinkBlocks     blocks never evicted
     * @param capacityTokens tokens the cache holds at most (sink and window, whole blocks)
     * @param maxChunk       most tokens one pass may feed a sequence
     */
    public record Layout(int blockSize, int sinkBlocks, int capacityTokens, int maxChunk) {
        /** Evicts the oldest window blocks of {@code kv} until {@code incoming} more tokens fit; returns the tokens evicted. */
        public int makeRoom(SequenceKv kv, int cached, int incoming) {
            int evicted = 0;
            while (cached - evicted + incoming > capacityTokens) {
                kv.evict(sinkBlocks);
                evicted += blockSize;
            }
            return evicted;
        }
    }

    /** Blocks of the sink. */
    int sinkBlocks(int blockSize) {
        return (sinkTokens + blockSize - 1) / blockSize;
    }

    /** Blocks of the window. */
    int windowBlocks(int blockSize) {
        return (windowTokens + blockSize - 1) / blockSize;
    }
}
