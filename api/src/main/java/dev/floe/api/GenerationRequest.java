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
 */
public record GenerationRequest(String prompt, int[] promptIds, int maxTokens, SamplingParams sampling,
                                List<String> stop, boolean ignoreEos) {

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
        promptIds = promptIds == null ? null : promptIds.clone();
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
        return new GenerationRequest(prompt, promptIds, maxTokens, s, stop, ignoreEos);
    }

    public GenerationRequest withStop(List<String> s) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, s, ignoreEos);
    }

    public GenerationRequest withIgnoreEos(boolean ignore) {
        return new GenerationRequest(prompt, promptIds, maxTokens, sampling, stop, ignore);
    }

    @Override
    public int[] promptIds() {
        return promptIds == null ? null : promptIds.clone();
    }
}
