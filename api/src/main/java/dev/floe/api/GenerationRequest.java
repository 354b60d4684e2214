package dev.floe.api;

import java.util.List;

/**
 * A request to continue a prompt. Either {@code prompt} (text, tokenized with special tokens) or {@code promptIds}
 * is given.
 *
 * @param prompt      text prompt, or null when ids are given
 * @param promptIds   token ids, or null when text is given
 * @param maxTokens   most tokens to generate (at least 1)
 * @param sampling    how tokens are chosen
 * @param stop        strings that end generation; they are not part of the result
 * @param ignoreEos   keep generating past the end-of-sequence token
 * @param logprobs    -1: no log-probabilities; k >= 0: each generated token carries its log-probability and the k
 *                    most likely alternatives (at most {@link #MAX_TOP_LOGPROBS})
 * @param constraint  limits the tokens that may come next (e.g. to valid JSON), or null for none
 * @param observer    sees every forward pass of this request (the prompt, then one per token): routing decisions per
 *                    MoE layer with the token ids and positions routed, for research and tracing; null for none. It
 *                    is called on the generating thread and should be quick.
 */
public record GenerationRequest(String prompt, int[] promptIds, int maxTokens, SamplingParams sampling,
                                List<String> stop, boolean ignoreEos, int logprobs, TokenConstraint constraint,
                                ForwardObserver observer) {
    /** Most alternatives a token's log-probabilities may list. */
    public static final int MAX_TOP_LOGPROBS = 20;

    public GenerationRequest {
        if ((prompt == null) == (promptIds == null)) {
            throw new InvalidRequestException("give exactly one of prompt text and prompt ids");
        }
        if (prompt != null && prompt.isEmpty()) throw new InvalidRequestException("prompt is empty");
        if (promptIds != null && promptIds.length == 0) throw new InvalidRequestException("prompt ids are empty");
        if (maxTokens < 1) throw new InvalidRequestException("max_tokens must be at least 1, got " + maxTokens);
        if (sampling == null) sampling = SamplingParams.GREEDY;
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) throw new InvalidRequestException("stop strings must not be empty");
        }
        if (logprobs < -1 || logprobs > MAX_TOP_LOGPROBS) {
            throw new InvalidRequestException("logprobs must be -1 (none) or in [0, " + MAX_TOP_LOGPROBS + "], got " + logprobs);
        }
        promptIds = promptIds == null ? null : promptIds.clone();
    }

    /** A request without log-probabilities or a constraint. */
    public GenerationRequest(String prompt, int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos) {
        this(prompt, promptIds, maxTokens, sampling, stop, ignoreEos, -1, null, null);
    }

    /** A request without an observer. */
    public GenerationRequest(String prompt, int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos, int logprobs, TokenConstraint constraint) {
        this(prompt, promptIds, maxTokens, sampling, stop, ignoreEos, logprobs, constraint, null);
    }

    /** A greedy request for a text prompt. */
    public static GenerationRequest of(String prompt, int maxTokens) {
        return new GenerationRequest(prompt, null, maxTokens, SamplingParams.GREEDY, List.of(), false);
    }

    /** A greedy request for token ids. */
    public static GenerationRequest ofIds(int[] ids, int maxTokens) {
        return new GenerationRequest(null, ids, maxTokens, SamplingParams.GREEDY, List.of(), false);
    }

    public GenerationRequest withSampling(SamplingParams s) {
        return new GenerationRequest(prompt, promptIds, maxTokens, s, stop, ignoreEos, logprobs, constraint, observer);
    }

    public GenerationRequest withStop(List<String> s) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, s, ignoreEos, logprobs, constraint, observer);
    }

    public GenerationRequest withIgnoreEos(boolean ignore) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, stop, ignore, logprobs, constraint, observer);
    }

    /** Asks for each token's log-probability and its {@code top} most likely alternatives; -1 for none. */
    public GenerationRequest withLogprobs(int top) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, stop, ignoreEos, top, constraint, observer);
    }

    public GenerationRequest withConstraint(TokenConstraint c) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, stop, ignoreEos, logprobs, c, observer);
    }

    /** The same request with an observer of its forward passes (routing decisions), or none with null. */
    public GenerationRequest withObserver(ForwardObserver o) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, stop, ignoreEos, logprobs, constraint, o);
    }

    @Override
    public int[] promptIds() {
        return promptIds == null ? null : promptIds.clone();
    }
}
