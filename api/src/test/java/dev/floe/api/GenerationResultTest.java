package dev.floe.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GenerationResultTest {
    @Test
    void toStringShowsTheTextAndTheTokenIds() {
        GenerationResult r = new GenerationResult("a\n\"b\"", new int[]{5, 7}, FinishReason.LENGTH, 3, 10, 20);
        assertEquals("GenerationResult[text=\"a\\n\\\"b\\\"\", tokens=[5, 7], finishReason=LENGTH, promptTokens=3, "
                + "prefillNanos=10, decodeNanos=20]", r.toString());
    }
}
