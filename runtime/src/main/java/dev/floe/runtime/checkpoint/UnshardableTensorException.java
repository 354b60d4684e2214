package dev.floe.runtime.checkpoint;

/**
 * A tensor cannot be split the way a parallel layout asks: a shard's edge would cut one of its FP8 scale blocks (as
 * vLLM, Floe refuses rather than requantise). The message names the tensor, the range and the block size.
 */
public final class UnshardableTensorException extends IllegalArgumentException {
    public UnshardableTensorException(String message) {
        super(message);
    }
}
