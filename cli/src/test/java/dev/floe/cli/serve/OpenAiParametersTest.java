package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.GenerationRequest;
import dev.floe.api.ModelOptions;
import dev.floe.api.SamplingParams;
import dev.floe.api.Session;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static dev.floe.cli.serve.OpenAiServerTest.assertError;
import static dev.floe.cli.serve.OpenAiServerTest.get;
import static dev.floe.cli.serve.OpenAiServerTest.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAI request parameters beyond the basics: logprobs, n, penalties, bias, echo, usage chunks, tokenize. */
class OpenAiParametersTest {
    static FloeModel model;
    static ServingEngine engine;
    static OpenAiServer server;

    @BeforeAll
    static void start() throws Exception {
        model = FloeEngine.load(OpenAiServerTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        engine = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
        server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null);
    }

    @AfterAll
    static void stop() {
        server.close();
        engine.close();
        model.close();
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** The server's first token log-probabilities equal the log-softmax of the model's own logits for the prompt. */
    @Test
    void completionLogprobsAreTheLogSoftmaxOfTheModelsLogits() throws Exception {
        JsonNode body = ok(post(server, "/v1/completions", "{\"prompt\":\"def add(a, b):\",\"max_tokens\":6,\"temperature\":0,\"logprobs\":3,\"ignore_eos\":true}"));
        JsonNode choice = body.at("/choices/0");
        JsonNode lp = choice.get("logprobs");
        assertEquals(6, lp.get("tokens").size());
        assertEquals(6, lp.get("token_logprobs").size());
        assertEquals(6, lp.get("top_logprobs").size());
        assertEquals(String.join("", texts(lp.get("tokens"))), choice.get("text").asText(), "the tokens spell the text");
        int offset = 0;
        for (int i = 0; i < 6; i++) {
            assertEquals(offset, lp.get("text_offset").get(i).asInt());
            offset += lp.get("tokens").get(i).asText().length();
            double chosen = lp.get("token_logprobs").get(i).asDouble();
            double best = Double.NEGATIVE_INFINITY;
            for (Iterator<JsonNode> it = lp.get("top_logprobs").get(i).elements(); it.hasNext(); ) best = Math.max(best, it.next().asDouble());
            assertEquals(best, chosen, 1e-9, "greedy picks the most likely token");
            assertTrue(lp.get("top_logprobs").get(i).size() >= 3);
        }
        int[] prompt = engine.tokenize("def add(a, b):");
        float[] logits;
        try (Session s = model.newSession(64)) {
            logits = s.prefillLast(prompt);
        }
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float x : logits) max = Math.max(max, x);
        for (float x : logits) sum += Math.exp(x - max);
        int first = dev.floe.runtime.generate.Sampler.argmax(logits);
        assertEquals(logits[first] - max - Math.log(sum), lp.get("token_logprobs").get(0).asDouble(), 1e-4);
        Tokenizer.StreamingDecoder d = model.tokenizer().streamingDecoder(false, prompt);
        assertEquals(d.next(first) + d.flush(), lp.get("tokens").get(0).asText());
    }

    @Test
    void chatLogprobsHaveOpenAisShapeAndStreamPerToken() throws Exception {
        String request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true,"
                + "\"logprobs\":true,\"top_logprobs\":2";
        JsonNode body = ok(post(server, "/v1/chat/completions", request + "}"));
        JsonNode content = body.at("/choices/0/logprobs/content");
        assertEquals(5, content.size());
        for (JsonNode t : content) {
            assertTrue(t.get("token").isTextual() && t.get("logprob").asDouble() <= 0 && t.get("bytes").isArray(), t.toString());
            assertEquals(2, t.get("top_logprobs").size());
            assertTrue(t.at("/top_logprobs/0/logprob").asDouble() >= t.at("/top_logprobs/1/logprob").asDouble());
            assertEquals(t.get("token").asText(), t.at("/top_logprobs/0/token").asText(), "greedy: the chosen token is the top one");
        }
        List<JsonNode> chunks = events(post(server, "/v1/chat/completions", request + ",\"stream\":true}"));
        List<JsonNode> streamed = new ArrayList<>();
        for (JsonNode c : chunks) {
            JsonNode lp = c.at("/choices/0/logprobs/content");
            if (lp.isArray()) lp.forEach(streamed::add);
        }
        assertEquals(toList(content), streamed, "streamed log-probabilities equal the whole response's");
        assertTrue(ok(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"))
                .at("/choices/0/logprobs").isNull());
    }

    @Test
    void nChoicesAreSampledSeparatelyAndStreamedByIndex() throws Exception {
        String request = "{\"prompt\":\"def\",\"max_tokens\":12,\"temperature\":1.0,\"seed\":7,\"n\":3,\"ignore_eos\":true";
        JsonNode body = ok(post(server, "/v1/completions", request + "}"));
        JsonNode choices = body.get("choices");
        assertEquals(3, choices.size());
        Set<String> texts = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            assertEquals(i, choices.get(i).get("index").asInt());
            texts.add(choices.get(i).get("text").asText());
        }
        assertTrue(texts.size() > 1, "different seeds give different samples: " + texts);
        assertEquals(36, body.at("/usage/completion_tokens").asInt());
        assertEquals(body.at("/usage/prompt_tokens").asInt() + 36, body.at("/usage/total_tokens").asInt());
        // the same seeds streamed: each index's pieces spell the same text, and each index finishes once
        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        int[] finishes = new int[3];
        for (JsonNode c : events(post(server, "/v1/completions", request + ",\"stream\":true}"))) {
            for (JsonNode ch : c.get("choices")) {
                streamed[ch.get("index").asInt()].append(ch.get("text").asText());
                if (!ch.get("finish_reason").isNull()) finishes[ch.get("index").asInt()]++;
            }
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(choices.get(i).get("text").asText(), streamed[i].toString());
            assertEquals(1, finishes[i]);
        }
        JsonNode chat = ok(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3,\"n\":2,\"temperature\":0}"));
        assertEquals(chat.at("/choices/0/message/content"), chat.at("/choices/1/message/content"), "greedy choices agree");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"n\":17}"), 400, "n");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"n\":2,\"best_of\":3}"), 400, "best_of");
    }

    /** Penalties and bias reach the sampler: the server's answer equals generate's with the same parameters and differs from plain greedy. */
    @Test
    void penaltiesAndBiasChangeTheOutputAsGenerateDoes() throws Exception {
        String prompt = "class Stack:";
        int[] plain = model.generate(GenerationRequest.of(prompt, 40).withIgnoreEos(true)).tokens();
        assertTrue(java.util.Arrays.stream(plain).distinct().count() < plain.length, "plain greedy repeats a token (the precondition)");
        for (String params : List.of("\"presence_penalty\":2", "\"frequency_penalty\":2", "\"repetition_penalty\":3")) {
            JsonNode body = ok(post(server, "/v1/completions", "{\"prompt\":\"" + prompt + "\",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true," + params + "}"));
            String expected = model.generate(GenerationRequest.of(prompt, 40).withIgnoreEos(true).withSampling(sampling(params))).text();
            assertEquals(expected, body.at("/choices/0/text").asText(), params);
            assertNotEquals(model.tokenizer().decode(plain, true), body.at("/choices/0/text").asText(), params + " changes greedy output");
        }
        int forced = 1234;
        JsonNode biased = ok(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":4,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":0,\"logit_bias\":{\"" + forced + "\":100}}"));
        for (JsonNode token : biased.at("/choices/0/logprobs/tokens")) {
            Tokenizer.StreamingDecoder d = model.tokenizer().streamingDecoder(false, new int[]{forced});
            assertEquals(d.next(forced) + d.flush(), token.asText(), "a +100 bias forces the token");
        }
        JsonNode minP = ok(post(server, "/v1/completions", "{\"prompt\":\"def\",\"max_tokens\":8,\"temperature\":1,\"min_p\":1,\"seed\":3,\"ignore_eos\":true}"));
        assertEquals(model.generate(GenerationRequest.of("def", 8).withIgnoreEos(true)).text(), minP.at("/choices/0/text").asText(),
                "min_p 1 keeps only the most likely token: greedy");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"min_p\":1.5}"), 400, "min_p");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"presence_penalty\":3}"), 400, "presence_penalty");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"repetition_penalty\":0}"), 400, "repetition_penalty");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"logit_bias\":{\"99999\":1}}"), 400, "logit_bias");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"logit_bias\":{\"5\":101}}"), 400, "logit_bias");
    }

    private static SamplingParams sampling(String param) {
        double v = Double.parseDouble(param.substring(param.indexOf(':') + 1));
        return param.contains("presence") ? SamplingParams.GREEDY.withPenalties(v, 0, 1)
                : param.contains("frequency") ? SamplingParams.GREEDY.withPenalties(0, v, 1) : SamplingParams.GREEDY.withPenalties(0, 0, v);
    }

    @Test
    void echoIncludeUsageAndTheModelEndpoint() throws Exception {
        JsonNode echoed = ok(post(server, "/v1/completions", "{\"prompt\":\"def add(a, b):\",\"max_tokens\":5,\"temperature\":0,\"echo\":true}"));
        String plain = ok(post(server, "/v1/completions", "{\"prompt\":\"def add(a, b):\",\"max_tokens\":5,\"temperature\":0}")).at("/choices/0/text").asText();
        assertEquals("def add(a, b):" + plain, echoed.at("/choices/0/text").asText());
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"echo\":true,\"logprobs\":1}"), 400, "echo");

        List<JsonNode> chunks = events(post(server, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"));
        JsonNode last = chunks.getLast();
        assertEquals(0, last.get("choices").size(), "the usage chunk has no choices");
        assertEquals(4, last.at("/usage/completion_tokens").asInt());
        for (JsonNode c : chunks.subList(0, chunks.size() - 1)) assertTrue(c.get("usage").isNull(), c.toString());
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":true}}"), 400, "stream_options");

        String metrics = get(server, "/metrics").body();
        for (String name : List.of("floe_prefix_cache_queries_total ", "floe_prefix_cache_hits_total ", "floe_prefix_cache_hit_rate ", "floe_kv_blocks_cached ")) {
            assertTrue(metrics.contains(name), name + " in\n" + metrics);
        }
        assertTrue(engine.metrics().prefixCacheQueries() > 0);

        JsonNode m = ok(get(server, "/v1/models/arctic-tiny-code"));
        assertEquals("model", m.get("object").asText());
        assertEquals(model.config().maxPositions(), m.get("max_model_len").asInt());
        HttpResponse<String> missing = get(server, "/v1/models/gpt-4");
        assertError(missing, 404, null);
        assertEquals("model_not_found", JSON.readTree(missing.body()).at("/error/code").asText());
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        JsonNode t = ok(post(server, "/tokenize", "{\"model\":\"arctic-tiny-code\",\"prompt\":\"def add(a, b):\",\"return_token_strs\":true}"));
        int[] expected = engine.tokenize("def add(a, b):");
        assertEquals(expected.length, t.get("count").asInt());
        assertEquals(model.config().maxPositions(), t.get("max_model_len").asInt());
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], t.get("tokens").get(i).asInt());
        assertEquals(expected.length, t.get("token_strs").size());
        JsonNode usage = ok(post(server, "/v1/completions", "{\"prompt\":\"def add(a, b):\",\"max_tokens\":1}")).get("usage");
        assertEquals(expected.length, usage.get("prompt_tokens").asInt(), "tokenize counts what a completion's usage counts");
        JsonNode d = ok(post(server, "/detokenize", "{\"tokens\":" + t.get("tokens") + "}"));
        assertEquals(model.tokenizer().decode(expected, false), d.get("prompt").asText());
        assertTrue(d.get("prompt").asText().endsWith("def add(a, b):"));
        JsonNode chat = ok(post(server, "/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        JsonNode chatUsage = ok(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}")).get("usage");
        assertEquals(chatUsage.get("prompt_tokens").asInt(), chat.get("count").asInt());
        assertError(post(server, "/detokenize", "{\"tokens\":[1,99999]}"), 400, "tokens");
        assertError(post(server, "/tokenize", "{\"prompt\":\"x\",\"messages\":[]}"), 400, null);
        assertError(post(server, "/tokenize", "{\"text\":\"x\"}"), 400, "text");
    }

    @Test
    void contextOverflowAndUnsupportedParametersAre400sNamingTheField() throws Exception {
        String longPrompt = "x = 1\\n".repeat(300);
        int promptTokens = ok(post(server, "/tokenize", "{\"prompt\":\"" + longPrompt + "\"}")).get("count").asInt();
        int room = model.config().maxPositions() - promptTokens;
        assertTrue(room > 1 && room < 1000, "the prompt fills most of the context: " + promptTokens);
        HttpResponse<String> over = post(server, "/v1/completions", "{\"prompt\":\"" + longPrompt + "\",\"max_tokens\":" + (room + 1) + "}");
        assertError(over, 400, "prompt");
        assertEquals("context_length_exceeded", JSON.readTree(over.body()).at("/error/code").asText());
        assertEquals(200, post(server, "/v1/completions", "{\"prompt\":\"" + longPrompt + "\",\"max_tokens\":" + room + "}").statusCode());
        HttpResponse<String> chatOver = post(server, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"" + longPrompt.repeat(2) + "\"}]}");
        assertError(chatOver, 400, "messages");
        assertEquals("context_length_exceeded", JSON.readTree(chatOver.body()).at("/error/code").asText());

        assertError(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}"), 400, "tools");
        assertError(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":[{}]}"), 400, "response_format");
        for (String field : List.of("suffix", "functions", "audio")) {
            HttpResponse<String> r = post(server, "/v1/completions".replace("completions", field.equals("suffix") ? "completions" : "chat/completions"),
                    field.equals("suffix") ? "{\"prompt\":\"x\",\"suffix\":\"y\"}" : "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"" + field + "\":[{}]}");
            assertError(r, 400, field);
            assertEquals("unsupported_parameter", JSON.readTree(r.body()).at("/error/code").asText());
        }
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"temprature\":0.5}"), 400, "temprature");
        assertError(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"echo\":true}"), 400, "echo");
        assertError(post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}"), 400, "top_logprobs");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"logprobs\":21}"), 400, "logprobs");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"logprobs\":true}"), 400, "logprobs");
        assertEquals(200, post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1,\"user\":\"u1\",\"suffix\":null}").statusCode());
    }

    static List<JsonNode> events(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.getLast());
        for (String d : data.subList(0, data.size() - 1)) out.add(JSON.readTree(d));
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }
}
