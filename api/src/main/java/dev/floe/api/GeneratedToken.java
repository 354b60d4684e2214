package dev.floe.api;

/**
 * One token as it is produced.
 *
 * @param id       the token id
 * @param text     the text it completes (may be empty while a multi-byte character is incomplete)
 * @param index    0 for the first generated token
 * @param logprobs its log-probability and the top alternatives when the request asked for them
 *                 ({@link GenerationRequest#logprobs()} >= 0), else null; null also on a text-only flush at the end
 */
public record GeneratedToken(int id, String text, int index, TokenLogprobs logprobs) {
    /** A token without log-probabilities. */
    public GeneratedToken(int id, String text, int index) {
        this(id, text, index, null);
    }
}
