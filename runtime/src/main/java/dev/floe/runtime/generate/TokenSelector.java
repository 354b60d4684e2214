package dev.floe.runtime.generate;

import dev.floe.api.GenerationRequest;
import dev.floe.api.TokenConstraint;
import dev.floe.api.TokenLogprobs;

/**
 * Picks each next token of one sequence the way its request asks: the constraint's mask, then the {@link Sampler},
 * and the log-probabilities of the model's own distribution when asked for. Both generation loops (a model's
 * {@code generate} and the serving engine) go through it, so a request means the same in both.
 */
public final class TokenSelector {
    private final Sampler sampler;
    private final TokenConstraint.Matcher matcher;
    private final int logprobs;

    public TokenSelector(GenerationRequest request, int[] prompt) {
        this.sampler = new Sampler(request.sampling(), prompt);
        this.matcher = request.constraint() == null ? null : request.constraint().start();
        this.logprobs = request.logprobs();
    }

    /** A chosen token and, when the request asked for them, its log-probabilities (else null). */
    public record Choice(int id, TokenLogprobs logprobs) {
    }

    /** Chooses the next token from {@code logits}, which it may change. */
    public Choice next(float[] logits) {
        float[] raw = logprobs >= 0 && matcher != null ? logits.clone() : logits;
        if (matcher != null) matcher.mask(logits);
        int id = sampler.sample(logits);
        if (matcher != null) matcher.accept(id);
        return new Choice(id, logprobs >= 0 ? Sampler.logprobs(raw, id, logprobs) : null);
    }
}
