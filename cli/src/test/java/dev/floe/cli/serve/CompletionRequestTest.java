package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.GenerationRequest;
import dev.floe.api.ModelOptions;
import dev.floe.api.SamplingParams;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.floe.cli.serve.OpenAiServerTest.BUILT_IN;
import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI request validation without a server: every range is checked on both sides of its boundary (the last
 * value accepted, the first rejected), and every rejection names the field in {@code param}. The built-in model has
 * a 1,024-token context and 4,096 tokens.
 */
class CompletionRequestTest {
    private static final String MODEL = "arctic-tiny-code";
    static FloeModel model;
    static ServingEngine engine;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        engine = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    /** A completion request with the prompt "def add(a, b):" and the given extra fields. */
    static CompletionRequest completion(String fields) {
        return parse("{\"prompt\":\"def add(a, b):\"" + (fields.isEmpty() ? "" : "," + fields) + "}", false);
    }

    static CompletionRequest chat(String fields) {
        return parse("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + (fields.isEmpty() ? "" : "," + fields) + "}", true);
    }

    static CompletionRequest parse(String json, boolean chat) {
        try {
            return CompletionRequest.parse(JSON.readTree(json), chat, MODEL, engine);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(json, e);
        }
    }

    /** The completion fields are rejected with a 400 naming {@code param}; returns the error. */
    static ApiError rejected(String fields, String param) {
        return rejected(false, fields, param);
    }

    static ApiError rejected(boolean chat, String fields, String param) {
        ApiError e = assertThrows(ApiError.class, () -> {
            if (chat) chat(fields);
            else completion(fields);
        }, fields);
        assertEquals(400, e.status, fields);
        assertEquals("invalid_request_error", e.type, fields);
        assertEquals(param, e.param, fields + ": " + e.getMessage());
        return e;
    }

    static SamplingParams sampling(String fields) {
        return completion(fields).request().sampling();
    }

    @Test
    void defaults() {
        CompletionRequest r = completion("");
        SamplingParams s = r.request().sampling();
        assertEquals(1.0, s.temperature());
        assertEquals(1.0, s.topP());
        assertEquals(0, s.topK());
        assertEquals(0.0, s.minP());
        assertEquals(0.0, s.presencePenalty());
        assertEquals(0.0, s.frequencyPenalty());
        assertEquals(1.0, s.repetitionPenalty());
        assertEquals(Map.of(), s.logitBias());
        assertEquals(16, r.request().maxTokens(), "a completion's default max_tokens");
        assertEquals(1, r.n());
        assertEquals(-1, r.logprobs());
        assertFalse(r.stream());
        assertFalse(r.echo());
        assertFalse(r.includeUsage());
        assertFalse(r.chat());
        assertFalse(r.request().ignoreEos());
        assertTrue(r.parallelToolCalls());
        assertEquals(List.of(), r.request().stop());
        assertNull(r.toolFormat());
        assertEquals("def add(a, b):", r.prompt());
        assertEquals(engine.tokenize("def add(a, b):").length, r.promptTokens());
        assertEquals(r.promptTokens(), r.request().promptIds().length);
        assertNull(r.request().observer());
        assertEquals(256, chat("").request().maxTokens(), "a chat's default max_tokens");
    }

    @Test
    void temperatureIsInZeroToTwo() {
        assertEquals(0.0, sampling("\"temperature\":0").temperature());
        assertEquals(2.0, sampling("\"temperature\":2").temperature());
        rejected("\"temperature\":-0.001", "temperature");
        rejected("\"temperature\":2.001", "temperature");
        assertTrue(rejected("\"temperature\":\"hot\"", "temperature").getMessage().contains("must be a number"));
    }

    @Test
    void topPIsInZeroExclusiveToOne() {
        assertEquals(1.0, sampling("\"top_p\":1").topP());
        assertEquals(1e-9, sampling("\"top_p\":1e-9").topP());
        rejected("\"top_p\":0", "top_p");
        rejected("\"top_p\":1.001", "top_p");
    }

    @Test
    void topKIsANonNegativeInteger() {
        assertEquals(0, sampling("\"top_k\":0").topK());
        assertEquals(40, sampling("\"top_k\":40").topK());
        rejected("\"top_k\":-1", "top_k");
        assertTrue(rejected("\"top_k\":1.5", "top_k").getMessage().contains("must be an integer"));
        rejected("\"top_k\":2147483648", "top_k");
        rejected("\"top_k\":true", "top_k");
    }

    @Test
    void minPIsInZeroToOne() {
        assertEquals(0.0, sampling("\"min_p\":0").minP());
        assertEquals(1.0, sampling("\"min_p\":1").minP());
        rejected("\"min_p\":-0.001", "min_p");
        rejected("\"min_p\":1.001", "min_p");
    }

    @Test
    void penaltiesAreInTheirRanges() {
        for (String field : List.of("presence_penalty", "frequency_penalty")) {
            SamplingParams low = sampling("\"" + field + "\":-2");
            SamplingParams high = sampling("\"" + field + "\":2");
            assertEquals(-2.0, field.startsWith("presence") ? low.presencePenalty() : low.frequencyPenalty());
            assertEquals(2.0, field.startsWith("presence") ? high.presencePenalty() : high.frequencyPenalty());
            rejected("\"" + field + "\":-2.001", field);
            rejected("\"" + field + "\":2.001", field);
        }
        assertEquals(10.0, sampling("\"repetition_penalty\":10").repetitionPenalty());
        assertEquals(0.001, sampling("\"repetition_penalty\":0.001").repetitionPenalty());
        rejected("\"repetition_penalty\":0", "repetition_penalty");
        rejected("\"repetition_penalty\":10.001", "repetition_penalty");
    }

    @Test
    void logitBiasMapsTokenIdsInTheVocabularyToBoundedNumbers() {
        assertEquals(Map.of(0, 100.0, 4095, -100.0), sampling("\"logit_bias\":{\"0\":100,\"4095\":-100}").logitBias());
        rejected("\"logit_bias\":{\"4096\":1}", "logit_bias");
        rejected("\"logit_bias\":{\"-1\":1}", "logit_bias");
        rejected("\"logit_bias\":{\"5\":100.001}", "logit_bias");
        rejected("\"logit_bias\":{\"5\":-100.001}", "logit_bias");
        rejected("\"logit_bias\":{\"5\":\"1\"}", "logit_bias");
        assertTrue(rejected("\"logit_bias\":{\"five\":1}", "logit_bias").getMessage().contains("'five'"));
        rejected("\"logit_bias\":[1]", "logit_bias");
        assertEquals(Map.of(), sampling("\"logit_bias\":null").logitBias());
    }

    @Test
    void seedIsTakenAndEachChoiceGetsItsOwn() {
        CompletionRequest r = completion("\"seed\":-7,\"n\":3");
        assertEquals(-7, r.request().sampling().seed());
        assertEquals(r.request(), r.choice(0));
        assertEquals(-6, r.choice(1).sampling().seed());
        assertEquals(-5, r.choice(2).sampling().seed());
        assertEquals(r.request().sampling().withSeed(-5), r.choice(2).sampling(), "only the seed differs");
        rejected("\"seed\":1.5", "seed");
        rejected("\"seed\":18446744073709551616", "seed");
        assertEquals(Long.MAX_VALUE, sampling("\"seed\":9223372036854775807").seed());
    }

    @Test
    void nIsOneToSixteenAndBestOfMustEqualIt() {
        assertEquals(1, completion("\"n\":1").n());
        assertEquals(CompletionRequest.MAX_N, completion("\"n\":16").n());
        rejected("\"n\":0", "n");
        rejected("\"n\":17", "n");
        assertEquals(3, completion("\"n\":3,\"best_of\":3").n());
        assertEquals("unsupported_parameter", rejected("\"n\":3,\"best_of\":4", "best_of").code);
        rejected("\"best_of\":2", "best_of");
        rejected("\"best_of\":1.0", "best_of");
        assertEquals(1, completion("\"best_of\":null").n());
    }

    @Test
    void streamAndItsOptions() {
        assertTrue(completion("\"stream\":true").stream());
        rejected("\"stream\":\"yes\"", "stream");
        assertTrue(completion("\"stream\":true,\"stream_options\":{\"include_usage\":true}").includeUsage());
        assertFalse(completion("\"stream\":true,\"stream_options\":{\"include_usage\":false}").includeUsage());
        assertFalse(completion("\"stream\":true,\"stream_options\":{}").includeUsage());
        assertFalse(completion("\"stream_options\":null").includeUsage());
        rejected("\"stream_options\":{\"include_usage\":true}", "stream_options");
        rejected("\"stream\":true,\"stream_options\":[]", "stream_options");
        assertEquals("unsupported_parameter", rejected("\"stream\":true,\"stream_options\":{\"x\":1}", "stream_options.x").code);
        rejected("\"stream\":true,\"stream_options\":{\"include_usage\":1}", "include_usage");
    }

    @Test
    void completionLogprobsAndEcho() {
        assertEquals(0, completion("\"logprobs\":0").logprobs());
        assertEquals(GenerationRequest.MAX_TOP_LOGPROBS, completion("\"logprobs\":20").logprobs());
        assertEquals(20, completion("\"logprobs\":20").request().logprobs());
        rejected("\"logprobs\":21", "logprobs");
        rejected("\"logprobs\":-1", "logprobs");
        assertEquals(-1, completion("\"logprobs\":null").logprobs());
        assertTrue(completion("\"echo\":true").echo());
        assertEquals("unsupported_parameter", rejected("\"echo\":true,\"logprobs\":0", "echo").code);
        assertFalse(completion("\"echo\":false,\"logprobs\":0").echo());
    }

    @Test
    void chatLogprobsNeedLogprobsTrue() {
        assertEquals(-1, chat("").logprobs());
        assertEquals(-1, chat("\"logprobs\":false").logprobs());
        assertEquals(0, chat("\"logprobs\":true").logprobs());
        assertEquals(0, chat("\"logprobs\":true,\"top_logprobs\":0").logprobs());
        assertEquals(20, chat("\"logprobs\":true,\"top_logprobs\":20").logprobs());
        assertEquals(0, chat("\"logprobs\":true,\"top_logprobs\":null").logprobs());
        rejected(true, "\"logprobs\":true,\"top_logprobs\":21", "top_logprobs");
        rejected(true, "\"logprobs\":true,\"top_logprobs\":-1", "top_logprobs");
        rejected(true, "\"top_logprobs\":2", "top_logprobs");
        rejected(true, "\"logprobs\":false,\"top_logprobs\":2", "top_logprobs");
        rejected(true, "\"logprobs\":1", "logprobs");
        assertTrue(chat("").chat());
    }

    @Test
    void stopIsAStringOrUpToFourNonEmptyStrings() {
        assertEquals(List.of("\n"), completion("\"stop\":\"\\n\"").request().stop());
        assertEquals(List.of("a", "b", "c", "d"), completion("\"stop\":[\"a\",\"b\",\"c\",\"d\"]").request().stop());
        assertEquals(List.of(), completion("\"stop\":[]").request().stop());
        rejected("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "stop");
        rejected("\"stop\":[\"a\",1]", "stop");
        rejected("\"stop\":\"\"", "stop");
        rejected("\"stop\":[\"a\",\"\"]", "stop");
        rejected("\"stop\":5", "stop");
    }

    @Test
    void maxTokensFitsTheLimitAndTheContext() {
        int limit = engine.maxNewTokens();
        assertEquals(1023, limit);
        assertEquals(1, completion("\"max_tokens\":1").request().maxTokens());
        rejected("\"max_tokens\":0", "max_tokens");
        int prompt = engine.tokenize("def add(a, b):").length;
        int room = engine.contextLength() - prompt;
        assertEquals(room, completion("\"max_tokens\":" + room).request().maxTokens());
        ApiError e = rejected("\"max_tokens\":" + (room + 1), "prompt");
        assertEquals("context_length_exceeded", e.code);
        assertTrue(e.getMessage().contains("1024 tokens") && e.getMessage().contains("asks for " + (room + 1)), e.getMessage());
        rejected("\"max_tokens\":" + (limit + 1), "max_tokens");
        assertEquals(7, chat("\"max_completion_tokens\":7").request().maxTokens());
        assertEquals(7, chat("\"max_completion_tokens\":7,\"max_tokens\":9").request().maxTokens(), "max_completion_tokens wins");
        assertEquals(9, chat("\"max_completion_tokens\":null,\"max_tokens\":9").request().maxTokens());
        rejected(true, "\"max_completion_tokens\":0", "max_completion_tokens");
        rejected(false, "\"max_completion_tokens\":3", "max_completion_tokens");
    }

    @Test
    void theDefaultMaxTokensShrinksToTheRoomLeft() {
        // a prompt that leaves 5 tokens of the 1,024-token context: the default (16) shrinks to 5, an explicit 6 fails
        String word = " x";
        StringBuilder text = new StringBuilder("def" + word.repeat(engine.contextLength() - 40));
        while (engine.tokenize(text + word).length <= engine.contextLength() - 5) text.append(word);
        int promptTokens = engine.tokenize(text.toString()).length;
        int room = engine.contextLength() - promptTokens;
        assertTrue(room >= 5 && room < 16, "room " + room);
        CompletionRequest r = parse("{\"prompt\":\"" + text + "\"}", false);
        assertEquals(room, r.request().maxTokens());
        assertEquals(room, parse("{\"prompt\":\"" + text + "\",\"max_tokens\":" + room + "}", false).request().maxTokens());
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"prompt\":\"" + text + "\",\"max_tokens\":" + (room + 1) + "}", false));
        assertEquals("context_length_exceeded", e.code);
        // a prompt that fills the context leaves no room even for the default
        StringBuilder full = new StringBuilder(text);
        while (engine.tokenize(full.toString()).length < engine.contextLength()) full.append(word);
        ApiError none = assertThrows(ApiError.class, () -> parse("{\"prompt\":\"" + full + "\"}", false));
        assertEquals("context_length_exceeded", none.code);
        assertFalse(none.getMessage().contains("asks for"), none.getMessage());
    }

    /** A prompt of the BOS token alone leaves the whole limit (context - 1) as room: the limit check decides. */
    @Test
    void maxTokensMayReachTheLimitExactly() {
        assertEquals(1, engine.tokenize("<s>").length, "the prompt is the BOS token alone");
        int limit = engine.maxNewTokens();
        CompletionRequest r = parse("{\"prompt\":\"<s>\",\"max_tokens\":" + limit + "}", false);
        assertEquals(limit, r.request().maxTokens());
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"prompt\":\"<s>\",\"max_tokens\":" + (limit + 1) + "}", false));
        assertEquals("max_tokens", e.param);
        assertEquals("'max_tokens' must be in [1, " + limit + "], got " + (limit + 1), e.getMessage());
    }

    /** One token of room left: the default and an explicit 1 fit, 2 does not. */
    @Test
    void oneTokenOfRoomIsEnough() {
        StringBuilder text = new StringBuilder("def" + " x".repeat(engine.contextLength() - 40));
        while (engine.tokenize(text + " x").length <= engine.contextLength() - 1) text.append(" x");
        assertEquals(engine.contextLength() - 1, engine.tokenize(text.toString()).length);
        assertEquals(1, parse("{\"prompt\":\"" + text + "\"}", false).request().maxTokens());
        assertEquals(1, parse("{\"prompt\":\"" + text + "\",\"max_tokens\":1}", false).request().maxTokens());
        assertEquals("context_length_exceeded",
                assertThrows(ApiError.class, () -> parse("{\"prompt\":\"" + text + "\",\"max_tokens\":2}", false)).code);
    }

    @Test
    void aChatTooLongForTheContextNamesItsMessages() {
        String content = "x ".repeat(engine.contextLength());
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}", true));
        assertEquals("context_length_exceeded", e.code);
        assertEquals("messages", e.param);
        assertTrue(e.getMessage().contains("in the messages. Shorten the prompt or lower max_tokens."), e.getMessage());
        ApiError given = assertThrows(ApiError.class, () -> parse("{\"messages\":[{\"role\":\"user\",\"content\":\"" + content
                + "\"}],\"max_completion_tokens\":5}", true));
        assertTrue(given.getMessage().contains("asks for 5 in the completion. Shorten the prompt or lower max_completion_tokens."), given.getMessage());
    }

    @Test
    void fieldsAreKnownPerEndpoint() {
        assertEquals("unknown_parameter", rejected("\"colour\":1", "colour").code);
        assertEquals("unknown_parameter", rejected("\"messages\":[]", "messages").code);
        assertEquals("unknown_parameter", rejected(true, "\"echo\":true", "echo").code);
        assertEquals("unknown_parameter", rejected(true, "\"prompt\":\"x\"", "prompt").code);
        assertEquals("unsupported_parameter", rejected("\"suffix\":\"x\"", "suffix").code);
        assertEquals("unsupported_parameter", rejected(true, "\"store\":true", "store").code);
        assertTrue(rejected("\"colour\":1", "colour").getMessage().contains("for completions"));
        assertTrue(rejected(true, "\"colour\":1", "colour").getMessage().contains("for chat completions"));
        assertEquals(1, completion("\"colour\":null,\"suffix\":null").n(), "a null field is as if absent");
        assertTrue(chat("\"user\":\"u1\",\"tools\":null").chat(), "user is a common field, null tools are absent");
    }

    @Test
    void modelMustBeTheServedOne() {
        assertEquals(1, completion("\"model\":\"" + MODEL + "\"").n());
        assertEquals("model_not_found", rejected("\"model\":\"gpt-4\"", "model").code);
        assertNull(rejected("\"model\":7", "model").code);
        assertEquals(1, completion("\"model\":null").n());
    }

    @Test
    void promptIsOneNonEmptyString() {
        assertEquals("x", parse("{\"prompt\":[\"x\"]}", false).prompt());
        for (String bad : List.of("{}", "{\"prompt\":\"\"}", "{\"prompt\":[]}", "{\"prompt\":[\"a\",\"b\"]}", "{\"prompt\":[\"\"]}",
                "{\"prompt\":[1]}", "{\"prompt\":5}", "{\"prompt\":null}")) {
            ApiError e = assertThrows(ApiError.class, () -> parse(bad, false), bad);
            assertEquals("prompt", e.param, bad);
        }
        assertTrue(assertThrows(ApiError.class, () -> parse("{\"prompt\":[\"a\",\"b\"]}", false)).getMessage().contains("exactly one"));
        for (String bad : List.of("[]", "\"x\"", "null")) {
            ApiError e = assertThrows(ApiError.class, () -> parse(bad, false), bad);
            assertNull(e.param);
            assertTrue(e.getMessage().contains("JSON object"));
        }
    }

    @Test
    void booleansAndExtensions() {
        assertTrue(completion("\"ignore_eos\":true").request().ignoreEos());
        rejected("\"ignore_eos\":1", "ignore_eos");
        assertFalse(chat("\"parallel_tool_calls\":false").parallelToolCalls());
        assertNotEquals(null, completion("\"" + RoutingCollector.FIELD + "\":true").request().observer());
        assertNull(completion("\"" + RoutingCollector.FIELD + "\":false").request().observer());
    }

    @Test
    void jsonHelpersRejectWrongTypes() throws Exception {
        JsonNode body = JSON.readTree("{\"a\":3,\"b\":true,\"c\":null,\"d\":\"3\"}");
        assertEquals(3, CompletionRequest.integer(body, "a", 9));
        assertEquals(9, CompletionRequest.integer(body, "c", 9));
        assertEquals(9, CompletionRequest.integer(body, "z", 9));
        assertEquals("d", assertThrows(ApiError.class, () -> CompletionRequest.integer(body, "d", 9)).param);
        assertTrue(CompletionRequest.bool(body, "b", false));
        assertTrue(CompletionRequest.bool(body, "c", true));
        assertFalse(CompletionRequest.bool(body, "z", false));
        assertEquals("a", assertThrows(ApiError.class, () -> CompletionRequest.bool(body, "a", false)).param);
    }
}
