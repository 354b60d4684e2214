package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.floe.cli.serve.OpenAiServerTest.BUILT_IN;
import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static dev.floe.cli.serve.OpenAiServerTest.assertError;
import static dev.floe.cli.serve.OpenAiServerTest.call;
import static dev.floe.cli.serve.OpenAiServerTest.get;
import static dev.floe.cli.serve.OpenAiServerTest.post;
import static dev.floe.cli.serve.OpenAiServerTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server on a network: deadlines, limits, cancellation of abandoned requests, draining, strict bodies and the
 * small HTTP features (HEAD, request ids, CORS, the access log). Each test first sets up the failure the issue
 * reported (a dribbling client, an abandoned request, ...) and checks the server's answer to it.
 */
class ServerLimitsTest {
    static FloeModel model;
    static ServingEngine engine;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        engine = new ServingEngine(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS);
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    static OpenAiServer serve(ServerOptions options) throws IOException {
        return new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null, options);
    }

    static Socket connect(OpenAiServer s) throws IOException {
        Socket socket = new Socket("127.0.0.1", s.port());
        socket.setSoTimeout(15_000);
        return socket;
    }

    /** Reads until the server closes the connection; returns what it sent, or throws on the socket's timeout. */
    static String readToEnd(Socket socket) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n);
        } catch (java.net.SocketException reset) {
            // a reset is a close too
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aClientDribblingHeadersIsCutAtTheHeaderDeadline() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(60)));
             Socket socket = connect(s)) {
            OutputStream out = socket.getOutputStream();
            long start = System.nanoTime();
            String partial = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
            boolean cut = false;
            // a byte every 200 ms keeps an idle timer happy forever; the header deadline must not be
            for (int i = 0; i < 50 && !cut; i++) {
                try {
                    out.write(partial.charAt(Math.min(i, partial.length() - 1)));
                    out.flush();
                    Thread.sleep(200);
                } catch (IOException e) {
                    cut = true;
                }
            }
            if (!cut) readToEnd(socket); // the close may only show on the read side
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "the connection was closed after " + seconds + " s, the deadline is 1 s");
            assertEquals(200, get(s, "/health").statusCode());
            assertTrue(get(s, "/metrics").body().contains("floe_http_connections_closed_total{reason=\"header_timeout\"} 1"));
        }
    }

    @Test
    void aBodyThatNeverArrivesIsAnswered408() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(10), Duration.ofMillis(700), Duration.ofSeconds(60)));
             Socket socket = connect(s)) {
            socket.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":".getBytes(StandardCharsets.UTF_8));
            String response = readToEnd(socket);
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
            assertTrue(response.contains("\"code\":\"request_timeout\""), response);
        }
    }

    @Test
    void aSilentConnectionIsClosedAtTheIdleTimeout() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(500)));
             Socket socket = connect(s)) {
            long start = System.nanoTime();
            assertEquals("", readToEnd(socket));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
        }
    }

    @Test
    void oversizedHeadersAreAnswered431() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withMaxHeaderBytes(4096))) {
            HttpResponse<String> r = get(s, "/health", "X-Big", "y".repeat(5000));
            assertError(r, 431, null);
            assertEquals("headers_too_large", JSON.readTree(r.body()).at("/error/code").asText());
            assertEquals(200, get(s, "/health", "X-Small", "y".repeat(1000)).statusCode());
        }
    }

    @Test
    void slowClientsCannotHoldEveryConnection() throws Exception {
        int limit = 16;
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withMaxConnections(limit))) {
            assertEquals(limit, s.maxConnections());
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 3 * limit; i++) {
                    Socket socket = new Socket("127.0.0.1", s.port());
                    socket.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.UTF_8));
                    slow.add(socket);
                }
                long start = System.nanoTime();
                HttpResponse<String> health = get(s, "/health");
                assertEquals(200, health.statusCode());
                double seconds = (System.nanoTime() - start) / 1e9;
                assertTrue(seconds < 5, "/health took " + seconds + " s behind " + slow.size() + " half-sent requests");
            } finally {
                for (Socket socket : slow) socket.close();
            }
        }
    }

    @Test
    void aNonStreamingRequestWhoseClientLeavesIsCancelledAndFreesItsBlocks() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS)) {
            assertEquals(200, post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":8}").statusCode()); // a warm engine
            waitFor(() -> engine.kvBlocksUsed() == 0 && engine.runningRequests() == 0);
            long cancelledBefore = engine.metrics().finished(FinishReason.CANCELLED);
            long tokensBefore = engine.metrics().generatedTokens();
            String body = "{\"prompt\":\"def main():\",\"max_tokens\":1000,\"ignore_eos\":true}";
            try (Socket socket = connect(s)) {
                socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                waitFor(() -> engine.runningRequests() == 1);
                assertTrue(engine.kvBlocksUsed() > 0, "the request holds blocks while it runs");
            }
            long start = System.nanoTime();
            waitFor(() -> engine.metrics().finished(FinishReason.CANCELLED) == cancelledBefore + 1);
            assertEquals(cancelledBefore + 1, engine.metrics().finished(FinishReason.CANCELLED), "the abandoned request is cancelled");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "and soon");
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed(), "its blocks are back in the pool");
            assertTrue(engine.metrics().generatedTokens() - tokensBefore < 1000, "it did not run to its 1,000 tokens");
        }
    }

    @Test
    void drainingLetsShortRequestsFinishAndEndsTheRestProperly() throws Exception {
        try (ServingEngine one = new ServingEngine(model, Schedulers.create("continuous"), new ServingConfig(8, 1, 256));
             OpenAiServer s = new OpenAiServer(one, "arctic-tiny-code", "127.0.0.1", 0, null, ServerOptions.DEFAULTS)) {
            String longStream = "{\"prompt\":\"def main():\",\"max_tokens\":1000,\"ignore_eos\":true,\"stream\":true}";
            String queued = "{\"prompt\":\"import os\",\"max_tokens\":1000,\"ignore_eos\":true}";
            CompletableFuture<HttpResponse<String>> stream = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", longStream)));
            waitFor(() -> one.runningRequests() == 1);
            CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", queued)));
            waitFor(() -> one.queueLength() == 1);
            int port = s.port();
            assertEquals(2, s.drain(Duration.ofMillis(300)));
            HttpResponse<String> streamed = stream.get(30, TimeUnit.SECONDS);
            List<String> events = streamed.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
            assertEquals("[DONE]", events.getLast(), "the stream ends with [DONE]");
            JsonNode last = JSON.readTree(events.get(events.size() - 2));
            assertEquals("abort", last.at("/choices/0/finish_reason").asText(), "after a final chunk saying why");
            HttpResponse<String> refused = waiting.get(30, TimeUnit.SECONDS);
            assertError(refused, 503, null);
            assertEquals(String.valueOf(OpenAiServer.RETRY_AFTER_UNAVAILABLE), refused.headers().firstValue("Retry-After").orElse(null));
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close(), "no new connections");
            assertEquals(0, one.queueLength() + one.runningRequests());
        }
    }

    @Test
    void drainingWaitsForRequestsThatFinishInTime() throws Exception {
        try (ServingEngine e = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
             OpenAiServer s = new OpenAiServer(e, "arctic-tiny-code", "127.0.0.1", 0, null, ServerOptions.DEFAULTS)) {
            CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(() -> call(() ->
                    post(s, "/v1/completions", "{\"prompt\":\"def f():\",\"max_tokens\":40,\"ignore_eos\":true}")));
            waitFor(() -> e.runningRequests() == 1);
            assertEquals(0, s.drain(Duration.ofSeconds(30)));
            HttpResponse<String> done = r.get(30, TimeUnit.SECONDS);
            assertEquals(200, done.statusCode(), done.body());
            assertEquals(40, JSON.readTree(done.body()).at("/usage/completion_tokens").asInt());
        }
    }

    @Test
    void bodiesAreStrictJsonInStrictUtf8() throws Exception {
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS)) {
            assertError(post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2} trailing"), 400, null);
            assertError(post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}{}"), 400, null);
            HttpResponse<String> dup = post(s, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2,\"max_tokens\":5000}");
            assertError(dup, 400, null);
            assertTrue(dup.body().contains("max_tokens"), dup.body());
            // "A" as the overlong two-byte form C1 81, and a lone surrogate half
            for (byte[] bad : new byte[][]{{(byte) 0xC1, (byte) 0x81}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}}) {
                byte[] head = "{\"prompt\":\"".getBytes(StandardCharsets.UTF_8), tail = "\",\"max_tokens\":2}".getBytes(StandardCharsets.UTF_8);
                byte[] body = new byte[head.length + bad.length + tail.length];
                System.arraycopy(head, 0, body, 0, head.length);
                System.arraycopy(bad, 0, body, head.length, bad.length);
                System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
                HttpResponse<String> r = OpenAiServerTest.HTTP.send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertError(r, 400, null);
                assertEquals("invalid_utf8", JSON.readTree(r.body()).at("/error/code").asText());
            }
            assertEquals(200, post(s, "/v1/completions", "{\"prompt\":\"é\",\"max_tokens\":2}").statusCode());
        }
    }

    @Test
    void headRequestIdsCorsAndTheAccessLog() throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logged, true, StandardCharsets.UTF_8);
        try (OpenAiServer s = serve(ServerOptions.DEFAULTS.withCors(List.of("https://app.example")).withAccessLog(log))) {
            HttpResponse<String> head = OpenAiServerTest.HTTP.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/models")).method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            assertTrue(Long.parseLong(head.headers().firstValue("Content-Length").orElse("0")) > 0, "HEAD says the GET body's length");

            HttpResponse<String> mine = get(s, "/health", "X-Request-Id", "trace-42");
            assertEquals("trace-42", mine.headers().firstValue("X-Request-Id").orElse(null));
            String generated = get(s, "/health").headers().firstValue("X-Request-Id").orElse("");
            assertFalse(generated.isEmpty());

            HttpResponse<String> preflight = OpenAiServerTest.HTTP.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, preflight.statusCode());
            assertEquals("https://app.example", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
            HttpResponse<String> other = get(s, "/health", "Origin", "https://evil.example");
            assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "another origin gets no CORS headers");

            String lines = logged.toString(StandardCharsets.UTF_8);
            assertTrue(lines.lines().anyMatch(l -> l.contains("\"GET /health\" 200") && l.endsWith("id=trace-42")), lines);
            assertTrue(lines.lines().anyMatch(l -> l.contains("\"HEAD /v1/models\" 200")), lines);
        }
    }

    @Test
    void aFullQueueAndADrainingServerSayWhenToRetry() throws Exception {
        try (ServingEngine small = new ServingEngine(model, Schedulers.create("static"), new ServingConfig(1, 1, 64));
             OpenAiServer s = new OpenAiServer(small, "arctic-tiny-code", "127.0.0.1", 0, null, ServerOptions.DEFAULTS)) {
            String longOne = "{\"prompt\":\"def\",\"max_tokens\":300,\"ignore_eos\":true}";
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", longOne)));
            waitFor(() -> small.runningRequests() == 1);
            CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> call(() -> post(s, "/v1/completions", longOne)));
            waitFor(() -> small.queueLength() == 1);
            HttpResponse<String> full = post(s, "/v1/completions", longOne);
            assertError(full, 429, null);
            assertEquals(String.valueOf(OpenAiServer.RETRY_AFTER_QUEUE_FULL), full.headers().firstValue("Retry-After").orElse(null));
            small.cancelAll();
            first.get(30, TimeUnit.SECONDS);
            second.get(30, TimeUnit.SECONDS);
        }
    }
}
