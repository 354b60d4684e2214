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

    /** Readable: the text, the ids and the figures ({@code tokens=[I@1d119efb} is no help in a log). */
    @Override
    public String toString() {
        return "GenerationResult[text=" + quoted(text) + ", tokens=" + java.util.Arrays.toString(tokens) + ", finishReason="
                + finishReason + ", promptTokens=" + promptTokens + ", prefillNanos=" + prefillNanos + ", decodeNanos="
                + decodeNanos + "]";
    }

    private static String quoted(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '"', '\\' -> b.append('\\').append(c);
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
