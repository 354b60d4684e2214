package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.FinishReason;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code floe serve} over real HTTP on the built-in model: shapes, streaming, errors, limits, disconnects. */
class OpenAiServerTest {
    static final Path BUILT_IN = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static FloeModel model;
    static ServingEngine engine;
    static OpenAiServer server;

    @BeforeAll
    static void start() throws Exception {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        engine = new ServingEngine(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS);
        server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null);
    }

    @AfterAll
    static void stop() {
        server.close();
        engine.close();
        model.close();
    }

    static HttpResponse<String> post(OpenAiServer s, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(OpenAiServer s, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).GET();
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertError(HttpResponse<String> r, int status, String param) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isEmpty(), r.body());
        assertTrue(e.has("type") && e.has("param") && e.has("code"), r.body());
        if (status == 400) assertEquals("invalid_request_error", e.get("type").asText());
        if (param != null) assertEquals(param, e.get("param").asText(), r.body());
    }

    @Test
    void completionHasTheOpenAiShapeAndMatchesGenerate() throws Exception {
        HttpResponse<String> r = post(server, "/v1/completions",
                "{\"model\":\"arctic-tiny-code\",\"prompt\":[\"def add(a, b):\"],\"max_tokens\":12,\"temperature\":0}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("text_completion", body.get("object").asText());
        JsonNode usage = body.get("usage");
        assertEquals(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt(), usage.get("total_tokens").asInt());
        String expected = model.generate(dev.floe.api.GenerationRequest.of("def add(a, b):", 12)).text();
        assertEquals(expected, body.get("choices").get(0).get("text").asText());
    }

    @Test
    void chatStreamsServerSentEventsEndingWithDone() throws Exception {
        HttpResponse<String> r = post(server, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10,\"stream\":true,\"temperature\":0,\"stop\":[\"zzz\"]}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            text.append(chunk.get("choices").get(0).get("delta").path("content").asText(""));
        }
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertEquals("length", last.get("choices").get(0).get("finish_reason").asText());
        HttpResponse<String> plain = post(server, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10,\"temperature\":0}");
        assertEquals(JSON.readTree(plain.body()).get("choices").get(0).get("message").get("content").asText(), text.toString());
    }

    @Test
    void badRequestsAreAnsweredWithOpenAiErrors() throws Exception {
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\""), 400, null);
        assertError(post(server, "/v1/completions", "[1,2]"), 400, null);
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"ten\"}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":-1}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":100000000000}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":5000}"), 400, "max_tokens");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"temperature\":\"hot\"}"), 400, "temperature");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"stop\":5}"), 400, "stop");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"stream\":\"yes\"}"), 400, "stream");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"n\":0}"), 400, "n");
        assertError(post(server, "/v1/completions", "{\"prompt\":7}"), 400, "prompt");
        assertError(post(server, "/v1/chat/completions", "{\"messages\":\"hi\"}"), 400, "messages");
        HttpResponse<String> unknown = post(server, "/v1/completions", "{\"model\":\"gpt-4\",\"prompt\":\"x\"}");
        assertError(unknown, 400, "model");
        assertEquals("model_not_found", JSON.readTree(unknown.body()).get("error").get("code").asText());
        assertError(get(server, "/v1/completions"), 405, null);
        assertError(get(server, "/v1/nothing"), 404, null);
        assertError(post(server, "/v1/completions", "{\"prompt\":\"" + "a".repeat(OpenAiServer.MAX_BODY) + "\"}"), 413, null);
        // the server is still serving
        assertEquals(200, get(server, "/health").statusCode());
    }

    @Test
    void modelsHealthAndMetrics() throws Exception {
        JsonNode models = JSON.readTree(get(server, "/v1/models").body());
        assertEquals("arctic-tiny-code", models.get("data").get(0).get("id").asText());
        post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":3}");
        String metrics = get(server, "/metrics").body();
        for (String name : List.of("floe_time_to_first_token_seconds_bucket", "floe_inter_token_latency_seconds_count",
                "floe_queue_length", "floe_running_requests", "floe_kv_blocks_used", "floe_requests_total{status=\"length\"}")) {
            assertTrue(metrics.contains(name), name + " in\n" + metrics);
        }
        // a completion of 3 tokens fed its prompt and 2 generated tokens: the pass counters saw them
        for (String counter : List.of("floe_forward_passes_total", "floe_forward_decode_rows_total", "floe_forward_prompt_rows_total")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + counter + " (\\d+)$").matcher(metrics);
            assertTrue(m.find(), counter + " in\n" + metrics);
            assertTrue(Long.parseLong(m.group(1)) >= 1, counter + " counted");
        }
    }

    @Test
    void anApiKeyGuardsEverythingButHealth() throws Exception {
        try (OpenAiServer guarded = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, "s3cret")) {
            assertEquals(200, get(guarded, "/health").statusCode());
            assertError(get(guarded, "/v1/models"), 401, null);
            assertError(get(guarded, "/metrics", "Authorization", "Bearer wrong"), 401, null);
            assertError(post(guarded, "/v1/completions", "{\"prompt\":\"x\"}"), 401, null);
            assertEquals(200, get(guarded, "/v1/models", "Authorization", "Bearer s3cret").statusCode());
        }
    }

    @Test
    void aFullQueueAnswers429AndRecovers() throws Exception {
        try (ServingEngine small = new ServingEngine(model, Schedulers.create("static"), new ServingConfig(1, 1, 64));
             OpenAiServer s = new OpenAiServer(small, "arctic-tiny-code", "127.0.0.1", 0, null)) {
            String longOne = "{\"prompt\":\"def\",\"max_tokens\":300,\"ignore_eos\":true}";
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", longOne)));
            waitFor(() -> small.runningRequests() == 1);
            CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", longOne)));
            waitFor(() -> small.queueLength() == 1);
            assertError(post(s, "/v1/completions", longOne), 429, null);
            assertEquals(200, first.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, second.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}").statusCode());
        }
    }

    @Test
    void withAnAttentionSinkWindowMaxTokensMayPassTheContext() throws Exception {
        try (FloeModel sinks = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0,
                java.util.Map.of("attention.window", "256")), l -> { });
             ServingEngine e = new ServingEngine(sinks, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS);
             OpenAiServer s = new OpenAiServer(e, "arctic-tiny-code", "127.0.0.1", 0, null)) {
            int n = sinks.config().maxPositions() + 100;
            HttpResponse<String> r = post(s, "/v1/completions", "{\"prompt\":\"import os\",\"max_tokens\":" + n + ",\"ignore_eos\":true,\"temperature\":0}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(n, JSON.readTree(r.body()).at("/usage/completion_tokens").asInt());
            assertError(post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":100000000}"), 400, "max_tokens");
        }
    }

    @Test
    void aClientLeavingMidStreamCancelsAndFreesItsBlocks() throws Exception {
        waitFor(() -> engine.kvBlocksUsed() == 0);
        int baseline = engine.kvBlocksUsed();
        long cancelledBefore = engine.metrics().finished(FinishReason.CANCELLED);
        String body = "{\"prompt\":\"def main():\",\"max_tokens\":1000,\"ignore_eos\":true,\"stream\":true}";
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) events++;
            assertEquals(3, events);
            assertTrue(engine.kvBlocksUsed() > baseline, "the request holds blocks while it streams");
        }
        // the blocks are freed before the request's finish is counted: wait for both
        waitFor(() -> engine.kvBlocksUsed() == baseline && engine.metrics().finished(FinishReason.CANCELLED) > cancelledBefore);
        assertEquals(baseline, engine.kvBlocksUsed(), "blocks return to the baseline");
        assertEquals(cancelledBefore + 1, engine.metrics().finished(FinishReason.CANCELLED));
        assertFalse(engine.runningRequests() > 0);
    }

    interface Call<T> {
        T run() throws Exception;
    }

    static <T> T call(Call<T> c) {
        try {
            return c.run();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean() && System.nanoTime() < end) Thread.sleep(5);
    }
}
