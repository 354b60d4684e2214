package dev.floe.runtime.model;

import dev.floe.api.InvalidRequestException;

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

    /** Blocks of the sink. */
    int sinkBlocks(int blockSize) {
        return (sinkTokens + blockSize - 1) / blockSize;
    }

    /** Blocks of the window. */
    int windowBlocks(int blockSize) {
        return (windowTokens + blockSize - 1) / blockSize;
    }
}
