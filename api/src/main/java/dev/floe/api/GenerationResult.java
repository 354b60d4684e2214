package dev.floe.api;

/**
 * The outcome of a request.
 *
 * @param text          generated text (stop strings removed)
 * @param tokens        generated ids
 * @param finishReason  why it ended
 * @param promptTokens  prompt length in tokens
 * @param prefillNanos  time of the prompt pass
 * @param decodeNanos   time of all decode steps
 */
public record GenerationResult(String text, int[] tokens, FinishReason finishReason, int promptTokens,
                               long prefillNanos, long decodeNanos) {
    public GenerationResult {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Decode speed: generated tokens after the first, per second of decode time. */
    public double decodeTokensPerSecond() {
        return tokens.length <= 1 || decodeNanos == 0 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }
}
