package dev.floe.runtime.generate;

import dev.floe.api.GenerationRequest;
import dev.floe.api.TokenConstraint;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The constraint masks what the sampler sees; log-probabilities stay those of the model's own, unmasked logits. */
class TokenSelectorTest {
    /** A constraint that forbids token 0 and records what it was told. */
    private static final TokenConstraint NOT_ZERO = () -> new TokenConstraint.Matcher() {
        @Override
        public void mask(float[] logits) {
            logits[0] = Float.NEGATIVE_INFINITY;
        }

        @Override
        public void accept(int token) {
            assertTrue(token != 0, "the sampler drew a masked token");
        }
    };

    @Test
    void logprobsOfZeroAlternativesStillReportTheChosenTokenOnTheUnmaskedLogits() {
        TokenSelector s = new TokenSelector(GenerationRequest.ofIds(new int[]{5}, 4).withConstraint(NOT_ZERO).withLogprobs(0), new int[]{5});
        TokenSelector.Choice c = s.next(new float[]{3, 1, 0});
        assertEquals(1, c.id(), "token 0 is masked, greedy takes the next");
        assertNotNull(c.logprobs(), "logprobs 0 asks for the chosen token's logprob, without alternatives");
        assertEquals(1 - Math.log(Math.exp(3) + Math.exp(1) + 1), c.logprobs().logprob(), 1e-9, "the model's distribution, not the masked one");
        assertTrue(c.logprobs().top().isEmpty());
    }

    @Test
    void noLogprobsUnlessAsked() {
        TokenSelector s = new TokenSelector(GenerationRequest.ofIds(new int[]{5}, 4).withConstraint(NOT_ZERO), new int[]{5});
        TokenSelector.Choice c = s.next(new float[]{3, 1, 0});
        assertEquals(1, c.id());
        assertNull(c.logprobs());
    }
}
