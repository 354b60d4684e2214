package dev.floe.api;

import java.util.List;

/**
 * The log-probability of a generated token and of the most likely alternatives at its position, from the model's
 * distribution (log-softmax of the raw logits: before penalties, bias, temperature or constraints), as OpenAI's
 * {@code logprobs} report them.
 *
 * @param id      the chosen token
 * @param logprob its log-probability
 * @param top     the most likely tokens at this position, most likely first (empty unless asked for)
 */
public record TokenLogprobs(int id, double logprob, List<Candidate> top) {
    public TokenLogprobs {
        top = List.copyOf(top);
    }

    /** One alternative token and its log-probability. */
    public record Candidate(int id, double logprob) {
    }
}
