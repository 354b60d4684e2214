package dev.floe.api;

/**
 * How the next token is chosen from the logits.
 *
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it before softmax
 * @param topK        keep only the k most likely tokens (0: all)
 * @param topP        keep the smallest set of tokens whose probability reaches p (1: all)
 * @param seed        seed of the random generator, so that sampling is reproducible
 */
public record SamplingParams(double temperature, int topK, double topP, long seed) {
    /** Greedy decoding: always the most likely token. */
    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0);

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidRequestException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) throw new InvalidRequestException("top_k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new InvalidRequestException("top_p must be in (0, 1], got " + topP);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
