package dev.floe.api;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request records reject bad input with a message naming the field and the value, and defend their arrays. */
class RequestValidationTest {
    private static String rejected(Runnable r) {
        return assertThrows(InvalidRequestException.class, r::run).getMessage();
    }

    @Test
    void samplingParamsBoundsAreInclusiveWhereDocumented() {
        assertTrue(new SamplingParams(0, 0, 1, 0).greedy());
        assertFalse(new SamplingParams(1e-9, 0, 1, 0).greedy());
        assertEquals(1, new SamplingParams(1, 0, 1, 0).topP(), "top_p=1 is allowed");
        assertEquals(Double.MIN_VALUE, new SamplingParams(1, 0, Double.MIN_VALUE, 0).topP());
        assertEquals("temperature must be a finite number >= 0, got -0.5", rejected(() -> new SamplingParams(-0.5, 0, 1, 0)));
        assertTrue(rejected(() -> new SamplingParams(Double.NaN, 0, 1, 0)).contains("NaN"));
        assertTrue(rejected(() -> new SamplingParams(Double.POSITIVE_INFINITY, 0, 1, 0)).contains("Infinity"));
        assertEquals("top_k must be >= 0, got -1", rejected(() -> new SamplingParams(1, -1, 1, 0)));
        assertEquals("top_p must be in (0, 1], got 0.0", rejected(() -> new SamplingParams(1, 0, 0, 0)));
        assertEquals("top_p must be in (0, 1], got 1.0000001", rejected(() -> new SamplingParams(1, 0, 1.0000001, 0)));
        assertTrue(rejected(() -> new SamplingParams(1, 0, Double.NaN, 0)).contains("NaN"));
        assertTrue(SamplingParams.GREEDY.greedy());
    }

    /** min_p, the penalties and the logit bias accept their end points and reject the next value out. */
    @Test
    void samplingParamsRangesIncludeTheirEnds() {
        SamplingParams base = new SamplingParams(1, 0, 1, 0);
        assertEquals(0, base.withMinP(0).minP());
        assertEquals(1, base.withMinP(1).minP());
        assertTrue(rejected(() -> base.withMinP(-Double.MIN_VALUE)).startsWith("min_p must be in [0, 1]"));
        assertTrue(rejected(() -> base.withMinP(Math.nextUp(1.0))).startsWith("min_p must be in [0, 1]"));
        assertTrue(rejected(() -> base.withMinP(Double.NaN)).startsWith("min_p"));
        SamplingParams edges = base.withPenalties(-2, 2, Double.MIN_VALUE);
        assertEquals(-2, edges.presencePenalty());
        assertEquals(2, edges.frequencyPenalty());
        assertEquals(Double.MIN_VALUE, edges.repetitionPenalty());
        assertEquals(2, base.withPenalties(2, -2, 1).presencePenalty());
        assertEquals(-2, base.withPenalties(2, -2, 1).frequencyPenalty());
        assertTrue(rejected(() -> base.withPenalties(Math.nextUp(2.0), 0, 1)).startsWith("presence_penalty must be in [-2, 2]"));
        assertTrue(rejected(() -> base.withPenalties(Math.nextDown(-2.0), 0, 1)).startsWith("presence_penalty"));
        assertTrue(rejected(() -> base.withPenalties(0, Math.nextUp(2.0), 1)).startsWith("frequency_penalty must be in [-2, 2]"));
        assertTrue(rejected(() -> base.withPenalties(0, Math.nextDown(-2.0), 1)).startsWith("frequency_penalty"));
        assertTrue(rejected(() -> base.withPenalties(0, 0, 0)).startsWith("repetition_penalty must be a finite number > 0"));
        assertTrue(rejected(() -> base.withPenalties(0, 0, Double.POSITIVE_INFINITY)).startsWith("repetition_penalty"));
        assertTrue(rejected(() -> base.withPenalties(0, 0, Double.NaN)).startsWith("repetition_penalty"));
        assertEquals(1e300, base.withPenalties(0, 0, 1e300).repetitionPenalty());
        assertEquals(java.util.Map.of(0, 100.0, 7, -100.0), base.withLogitBias(java.util.Map.of(0, 100.0, 7, -100.0)).logitBias());
        assertEquals("logit_bias token id must be >= 0, got -1", rejected(() -> base.withLogitBias(java.util.Map.of(-1, 1.0))));
        assertTrue(rejected(() -> base.withLogitBias(java.util.Map.of(3, Math.nextUp(100.0)))).startsWith("logit_bias of token 3 must be in [-100, 100]"));
        assertTrue(rejected(() -> base.withLogitBias(java.util.Map.of(3, Double.NaN))).startsWith("logit_bias of token 3"));
    }

    @Test
    void logprobsAreMinusOneOrUpToTheMaximum() {
        GenerationRequest r = GenerationRequest.of("a", 1);
        assertEquals(-1, r.logprobs());
        assertEquals(-1, r.withLogprobs(-1).logprobs());
        assertEquals(0, r.withLogprobs(0).logprobs());
        assertEquals(GenerationRequest.MAX_TOP_LOGPROBS, r.withLogprobs(GenerationRequest.MAX_TOP_LOGPROBS).logprobs());
        assertEquals("logprobs must be -1 (none) or in [0, 20], got -2", rejected(() -> r.withLogprobs(-2)));
        assertEquals("logprobs must be -1 (none) or in [0, 20], got 21", rejected(() -> r.withLogprobs(21)));
    }

    @Test
    void generationRequestNeedsExactlyOnePrompt() {
        assertEquals("give exactly one of prompt text and prompt ids",
                rejected(() -> new GenerationRequest("a", new int[]{1}, 1, null, null, false)));
        assertEquals("give exactly one of prompt text and prompt ids",
                rejected(() -> new GenerationRequest(null, null, 1, null, null, false)));
        assertEquals("prompt is empty", rejected(() -> GenerationRequest.of("", 1)));
        assertEquals("prompt ids are empty", rejected(() -> GenerationRequest.ofIds(new int[0], 1)));
        assertEquals("max_tokens must be at least 1, got 0", rejected(() -> GenerationRequest.of("a", 0)));
        assertEquals(1, GenerationRequest.of("a", 1).maxTokens());
        assertEquals("stop strings must not be empty", rejected(() -> GenerationRequest.of("a", 1).withStop(List.of("x", ""))));
    }

    @Test
    void generationRequestDefaultsAndCopies() {
        GenerationRequest r = new GenerationRequest("a", null, 3, null, null, false);
        assertEquals(SamplingParams.GREEDY, r.sampling());
        assertEquals(List.of(), r.stop());
        int[] ids = {5, 6};
        GenerationRequest byIds = GenerationRequest.ofIds(ids, 2);
        ids[0] = 99;
        assertArrayEquals(new int[]{5, 6}, byIds.promptIds(), "the request copies the ids it is given");
        byIds.promptIds()[1] = 99;
        assertArrayEquals(new int[]{5, 6}, byIds.promptIds(), "and the ids it hands out");
        assertNull(r.promptIds());
        List<String> stops = new ArrayList<>(List.of("\n"));
        GenerationRequest stopped = r.withStop(stops);
        stops.add("x");
        assertEquals(List.of("\n"), stopped.stop());
        GenerationRequest all = r.withSampling(new SamplingParams(1, 2, 0.5, 9)).withIgnoreEos(true).withStop(List.of("s"));
        assertEquals(new SamplingParams(1, 2, 0.5, 9), all.sampling());
        assertTrue(all.ignoreEos());
        assertEquals(List.of("s"), all.stop());
        assertEquals("a", all.prompt());
        assertEquals(3, all.maxTokens());
    }

    @Test
    void routingDecisionRowsMustAgree() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingDecision(new int[2][], new float[1][]))
                .getMessage().contains("2 expert rows but 1 weight rows"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingDecision(new int[][]{{1}, {1, 2}},
                new float[][]{{1}, {1}})).getMessage().contains("token 1 has 2 experts but 1 weights"));
        RoutingDecision d = new RoutingDecision(new int[][]{{0, 1}, {}, {}}, new float[][]{{.5f, .5f}, {}, {}});
        assertEquals(3, d.tokens());
        assertEquals(2, d.droppedTokens());
    }

    @Test
    void dtypesKnowTheirSafetensorsNamesAndWidths() {
        for (DType t : DType.values()) assertEquals(t, DType.fromSafetensors(t.safetensorsName()));
        assertNull(DType.fromSafetensors("F64"));
        assertEquals(4, DType.F32.bytes());
        assertEquals(2, DType.BF16.bytes());
        assertEquals(1, DType.F8_E4M3.bytes());
        assertEquals(8, DType.I64.bytes());
        assertTrue(DType.F8_E5M2.isFloat() && DType.F16.isFloat());
        assertFalse(DType.I32.isFloat() || DType.I64.isFloat());
    }
}
