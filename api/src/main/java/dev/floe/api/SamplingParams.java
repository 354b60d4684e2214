package dev.floe.api;

import java.util.Map;
import java.util.TreeMap;

/**
 * How the next token is chosen from the logits. The logits are first adjusted (repetition penalty, then presence and
 * frequency penalties, then logit bias), then greedy decoding takes the largest; otherwise they are divided by the
 * temperature, softmaxed, and filtered by min-p, top-k and top-p before the draw.
 *
 * @param temperature       0 for greedy decoding; otherwise logits are divided by it before softmax
 * @param topK              keep only the k most likely tokens (0: all)
 * @param topP              keep the smallest set of tokens whose probability reaches p (1: all)
 * @param seed              seed of the random generator, so that sampling is reproducible
 * @param minP              drop tokens whose probability is below {@code minP} times the most likely one's (0: none)
 * @param presencePenalty   subtracted from the logit of every token generated at least once (OpenAI's, in [-2, 2])
 * @param frequencyPenalty  subtracted from a token's logit once per time it was generated (OpenAI's, in [-2, 2])
 * @param repetitionPenalty divides positive and multiplies negative logits of every token in the prompt or output
 *                          (Hugging Face's and vLLM's; 1: none)
 * @param logitBias         added to the logit of a token id (OpenAI's, each in [-100, 100]); empty for none
 */
public record SamplingParams(double temperature, int topK, double topP, long seed, double minP, double presencePenalty,
                             double frequencyPenalty, double repetitionPenalty, Map<Integer, Double> logitBias) {
    /** Greedy decoding: always the most likely token. */
    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0);

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidRequestException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) throw new InvalidRequestException("top_k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new InvalidRequestException("top_p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new InvalidRequestException("min_p must be in [0, 1], got " + minP);
        if (!(Math.abs(presencePenalty) <= 2)) throw new InvalidRequestException("presence_penalty must be in [-2, 2], got " + presencePenalty);
        if (!(Math.abs(frequencyPenalty) <= 2)) throw new InvalidRequestException("frequency_penalty must be in [-2, 2], got " + frequencyPenalty);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new InvalidRequestException("repetition_penalty must be a finite number > 0, got " + repetitionPenalty);
        }
        logitBias = logitBias == null ? Map.of() : Map.copyOf(new TreeMap<>(logitBias));
        for (Map.Entry<Integer, Double> e : logitBias.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0) throw new InvalidRequestException("logit_bias token id must be >= 0, got " + e.getKey());
            if (e.getValue() == null || !(Math.abs(e.getValue()) <= 100)) {
                throw new InvalidRequestException("logit_bias of token " + e.getKey() + " must be in [-100, 100], got " + e.getValue());
            }
        }
    }

    /** Temperature, top-k, top-p and seed only: no min-p, penalties or bias. */
    public SamplingParams(double temperature, int topK, double topP, long seed) {
        this(temperature, topK, topP, seed, 0, 0, 0, 1, Map.of());
    }

    public boolean greedy() {
        return temperature == 0;
    }

    /** Whether any penalty or bias changes the logits before the choice. */
    public boolean adjustsLogits() {
        return presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1 || !logitBias.isEmpty();
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, s, minP, presencePenalty, frequencyPenalty, repetitionPenalty, logitBias);
    }

    public SamplingParams withMinP(double p) {
        return new SamplingParams(temperature, topK, topP, seed, p, presencePenalty, frequencyPenalty, repetitionPenalty, logitBias);
    }

    /** OpenAI's presence and frequency penalties and the Hugging Face repetition penalty. */
    public SamplingParams withPenalties(double presence, double frequency, double repetition) {
        return new SamplingParams(temperature, topK, topP, seed, minP, presence, frequency, repetition, logitBias);
    }

    public SamplingParams withLogitBias(Map<Integer, Double> bias) {
        return new SamplingParams(temperature, topK, topP, seed, minP, presencePenalty, frequencyPenalty, repetitionPenalty, bias);
    }
}
