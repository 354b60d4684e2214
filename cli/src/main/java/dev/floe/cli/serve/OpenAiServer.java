package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.FinishReason;
import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.serving.QueueFullException;
import dev.floe.runtime.serving.ServingEngine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server over a {@link ServingEngine}: the API's semantics (routing, authorisation,
 * request bodies to engine requests, results to OpenAI's JSON, streaming, draining) on an {@link Exchange}; the
 * transport with its limits and deadlines is {@link JettyTransport}. Token streaming goes from the engine thread
 * through a per-request queue to the request's thread, so a slow client never holds the engine; a client that goes
 * away, streaming or not, cancels its request.
 */
public final class OpenAiServer implements AutoCloseable {
    /** Largest request body accepted. */
    public static final int MAX_BODY = 1 << 20;

    /** Seconds a client is told to wait after a 429 (the queue turns over in about that time). */
    static final int RETRY_AFTER_QUEUE_FULL = 1;
    /** Seconds a client is told to wait after a 503 from a draining server (a replacement takes about that long). */
    static final int RETRY_AFTER_UNAVAILABLE = 5;
    /** How often a non-streaming request checks that its client is still connected. */
    private static final long CLIENT_CHECK_MILLIS = 50;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServingEngine engine;
    private final String modelName;
    private final byte[] apiKey;
    private final ServerOptions options;
    private final JettyTransport transport;
    private final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final long created = System.currentTimeMillis() / 1000;
    /** Requests being handled (for draining). */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Set when draining starts: new completions are answered 503, ended ones report the shutdown. */
    private volatile boolean draining;

    /**
     * Binds and starts the server.
     *
     * @param apiKey the key every endpoint but {@code /health} requires as {@code Authorization: Bearer KEY}; null for none
     */
    public OpenAiServer(ServingEngine engine, String modelName, String host, int port, String apiKey) throws IOException {
        this(engine, modelName, host, port, apiKey, ServerOptions.DEFAULTS);
    }

    /**
     * Binds and starts the server with {@code options}' limits, after pushing a few requests through the whole
     * stack in memory, so that nothing it initialises lazily can fail on the first real response.
     */
    public OpenAiServer(ServingEngine engine, String modelName, String host, int port, String apiKey, ServerOptions options)
            throws IOException {
        this.engine = engine;
        this.modelName = modelName;
        this.apiKey = apiKey == null || apiKey.isEmpty() ? null : ("Bearer " + apiKey).getBytes(StandardCharsets.UTF_8);
        this.options = options;
        this.transport = new JettyTransport(options, this::handle);
        try {
            warm();
            transport.listen(host, port);
        } catch (IOException | RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    /** Every response path the server has, once, in memory: the JSON writers, date formatting, error pages. */
    private void warm() {
        String key = apiKey == null ? "" : "Authorization: " + new String(apiKey, StandardCharsets.UTF_8) + "\r\n";
        String[] requests = {
                "GET /health HTTP/1.1\r\nHost: warm\r\n\r\n",
                "HEAD /health HTTP/1.1\r\nHost: warm\r\nOrigin: http://warm\r\n\r\n",
                "GET /v1/models HTTP/1.1\r\nHost: warm\r\n" + key + "\r\n",
                "GET /metrics HTTP/1.1\r\nHost: warm\r\n" + key + "\r\n",
                "GET /none HTTP/1.1\r\nHost: warm\r\n\r\n",
                "POST /v1/completions HTTP/1.1\r\nHost: warm\r\n" + key + "Content-Length: 3\r\n\r\n{x}",
                "GET /health HTTP/1.1\r\nHost: warm\r\nX-Big: " + "x".repeat(options.maxHeaderBytes()) + "\r\n\r\n",
                "BAD\r\n\r\n"};
        for (String r : requests) {
            String response = transport.warm(r);
            if (response == null || !response.startsWith("HTTP/1.1 ")) {
                throw new IllegalStateException("the HTTP server answered a warm-up request with " + response);
            }
        }
        byStatus.clear();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return transport.port();
    }

    /** The connection limit in force (given, or derived from the descriptor limit). */
    public int maxConnections() {
        return transport.maxConnections();
    }

    public String modelName() {
        return modelName;
    }

    private void handle(Exchange ex) throws IOException {
        inFlight.incrementAndGet();
        try {
            String path = ex.path();
            String method = ex.method();
            try {
                if (Cors.apply(ex, options.corsOrigins())) {
                    count(204);
                    ex.respond(204, "text/plain", new byte[0]);
                    return;
                }
                switch (path) {
                    case "/health" -> {
                        allow(method, "GET");
                        if (draining) unavailable(ex); // load balancers stop sending here
                        else sendJson(ex, 200, JSON.createObjectNode().put("status", "ok"));
                    }
                    case "/v1/models" -> {
                        authorize(ex);
                        allow(method, "GET");
                        sendJson(ex, 200, models());
                    }
                    case "/metrics" -> {
                        authorize(ex);
                        allow(method, "GET");
                        send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", (PrometheusMetrics.render(engine, byStatus)
                                + PrometheusMetrics.connections(transport)).getBytes(StandardCharsets.UTF_8));
                    }
                    case "/v1/completions", "/v1/chat/completions" -> {
                        authorize(ex);
                        allow(method, "POST");
                        complete(ex, path.equals("/v1/chat/completions"));
                    }
                    case "/tokenize", "/detokenize" -> {
                        authorize(ex);
                        allow(method, "POST");
                        JsonNode body = readBody(ex);
                        sendJson(ex, 200, path.equals("/tokenize") ? Tokenization.tokenize(body, modelName, engine)
                                : Tokenization.detokenize(body, modelName, engine));
                    }
                    default -> {
                        if (!path.startsWith("/v1/models/")) {
                            throw new ApiError(404, "invalid_request_error", "no endpoint " + method + " " + path, null, "not_found");
                        }
                        authorize(ex);
                        allow(method, "GET");
                        String name = path.substring("/v1/models/".length());
                        if (!name.equals(modelName)) {
                            throw new ApiError(404, "invalid_request_error", "the model '" + name + "' does not exist; this server serves '" + modelName + "'", "model", "model_not_found");
                        }
                        sendJson(ex, 200, model());
                    }
                }
            } catch (ApiError e) {
                if (e.status == 405) ex.setHeader("Allow", e.code);
                sendError(ex, e.status, e.type, e.getMessage(), e.param, e.status == 405 ? "method_not_allowed" : e.code);
            } catch (QueueFullException e) {
                ex.setHeader("Retry-After", Integer.toString(RETRY_AFTER_QUEUE_FULL));
                sendError(ex, 429, "rate_limit_exceeded", e.getMessage(), null, "queue_full");
            } catch (ShuttingDown e) {
                unavailable(ex);
            } catch (InvalidRequestException e) {
                sendError(ex, 400, "invalid_request_error", e.getMessage(), null, null);
            } catch (IOException e) {
                // the client went away while we answered: nothing left to tell it
            } catch (RuntimeException e) {
                sendError(ex, 500, "server_error", "internal error: " + e, null, null);
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** {@code HEAD} is allowed wherever {@code GET} is. */
    private static void allow(String method, String allowed) {
        if (method.equals(allowed) || method.equals("HEAD") && allowed.equals("GET")) return;
        String list = allowed.equals("GET") ? "GET, HEAD" : allowed;
        throw new ApiError(405, "invalid_request_error", "method " + method + " is not allowed here; use " + list, null, list);
    }

    private void authorize(Exchange ex) {
        if (apiKey == null) return;
        String given = ex.header("Authorization");
        if (given == null || !MessageDigest.isEqual(apiKey, given.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", given == null ? "missing API key: send 'Authorization: Bearer KEY'" : "incorrect API key", null, "invalid_api_key");
        }
    }

    private ObjectNode models() {
        ObjectNode root = JSON.createObjectNode().put("object", "list");
        root.putArray("data").add(model());
        return root;
    }

    /** OpenAI's model object, with vLLM's {@code max_model_len}. */
    private ObjectNode model() {
        ObjectNode m = JSON.createObjectNode().put("id", modelName).put("object", "model").put("created", created).put("owned_by", "floe");
        if (engine.contextLength() != Integer.MAX_VALUE) m.put("max_model_len", engine.contextLength());
        return m;
    }

    private static JsonNode readBody(Exchange ex) throws IOException {
        return StrictJson.parse(ex.body(MAX_BODY));
    }

    private void complete(Exchange ex, boolean chat) throws IOException {
        if (draining) throw new ShuttingDown();
        CompletionRequest req = CompletionRequest.parse(readBody(ex), chat, modelName, engine);
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long createdAt = System.currentTimeMillis() / 1000;
        String object = chat ? (req.stream() ? "chat.completion.chunk" : "chat.completion") : "text_completion";
        CompletionRun run = start(req);
        if (!req.stream()) {
            ObjectNode root = envelope(id, object, createdAt);
            try {
                awaitWhileConnected(ex, run);
                if (draining && run.cancelledAny()) throw new ShuttingDown();
                run.awaitChoices(root);
            } catch (InterruptedException e) {
                run.cancel();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + id);
            } catch (RuntimeException e) {
                run.cancel();
                throw e;
            }
            RoutingCollector.addTo(root, req);
            sendJson(ex, 200, root);
            return;
        }
        ex.setHeader("Cache-Control", "no-cache");
        count(200);
        OutputStream out = null;
        try {
            out = ex.stream(200, "text/event-stream; charset=utf-8");
            int[] textOffset = new int[req.n()];
            for (int i = 0; i < req.n(); i++) {
                // chat opens each choice with the assistant's role; an echoed completion starts with its prompt
                if (!chat && !req.echo()) continue;
                ObjectNode first = chunk(req, id, object, createdAt);
                ObjectNode choice = first.putArray("choices").addObject().put("index", i);
                if (chat) choice.putObject("delta").put("role", "assistant").put("content", "");
                else choice.put("text", req.prompt());
                choice.putNull("logprobs").putNull("finish_reason");
                event(out, first);
                if (!chat) textOffset[i] = req.prompt().length();
            }
            int done = 0, completionTokens = 0;
            while (done < req.n()) {
                CompletionRun.Event e = run.poll(100);
                if (e == null) continue;
                ObjectNode chunk = chunk(req, id, object, createdAt);
                switch (e) {
                    case CompletionRun.TokenEvent t -> {
                        if (run.readsToolCalls() ? run.toolChoice(chunk, t) == null : run.tokenChoice(chunk, t, textOffset[t.choice()]) == null) continue;
                        textOffset[t.choice()] += t.token().text().length();
                    }
                    case CompletionRun.DoneEvent d -> {
                        if (d.failure() != null) throw CompletionRun.failure(d.failure());
                        done++;
                        completionTokens += d.result().tokens().length;
                        run.finishChoice(chunk, d);
                        // ended by a drain deadline: vLLM's word for a request the server stopped
                        if (draining && d.result().finishReason() == FinishReason.CANCELLED) {
                            ((ObjectNode) chunk.get("choices").get(0)).put("finish_reason", "abort");
                        }
                    }
                }
                if (done == req.n() && !req.includeUsage()) chunk.set("usage", run.usage(completionTokens));
                if (done == req.n()) RoutingCollector.addTo(chunk, req);
                event(out, chunk);
            }
            if (req.includeUsage()) {
                // OpenAI's stream_options.include_usage: one more chunk, with no choices and the usage of all of them
                ObjectNode usage = envelope(id, object, createdAt);
                usage.putArray("choices");
                usage.set("usage", run.usage(completionTokens));
                event(out, usage);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            // the client disconnected: stop generating and free the request's KV blocks
            run.cancel();
            throw e;
        } catch (RuntimeException e) {
            // the request failed in the engine after the headers went out: say so in the stream
            run.cancel();
            ObjectNode error = JSON.createObjectNode();
            error.putObject("error").put("message", String.valueOf(e.getMessage())).put("type", "server_error").putNull("param").putNull("code");
            if (out == null) throw e;
            event(out, error);
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            run.cancel();
            Thread.currentThread().interrupt();
        }
    }

    /** Submits every choice; an engine that no longer takes requests means the server is going away. */
    private CompletionRun start(CompletionRequest req) {
        try {
            return new CompletionRun(engine, req);
        } catch (IllegalStateException e) {
            if (draining || engine.closed()) throw new ShuttingDown();
            throw e;
        }
    }

    /**
     * Waits for a non-streaming request's choices while checking that the client is still there: one that has gone
     * cancels them (their KV blocks are freed at the engine's next step) and gets no answer.
     */
    private static void awaitWhileConnected(Exchange ex, CompletionRun run) throws IOException, InterruptedException {
        while (!run.awaitFinished(CLIENT_CHECK_MILLIS)) {
            if (ex.clientGone()) {
                run.cancel();
                throw new IOException("the client closed the connection before its completion finished");
            }
        }
    }

    /** A stream chunk; with {@code include_usage}, every chunk but the last carries {@code "usage": null}, as OpenAI's do. */
    private ObjectNode chunk(CompletionRequest req, String id, String object, long createdAt) {
        ObjectNode chunk = envelope(id, object, createdAt);
        if (req.includeUsage()) chunk.putNull("usage");
        return chunk;
    }

    private ObjectNode envelope(String id, String object, long createdAt) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", createdAt).put("model", modelName);
    }


    private static void event(OutputStream out, JsonNode data) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void count(int status) {
        byStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    /** 503 with Retry-After: the server is draining. */
    private void unavailable(Exchange ex) throws IOException {
        ex.setHeader("Retry-After", Integer.toString(RETRY_AFTER_UNAVAILABLE));
        ex.setHeader("Connection", "close");
        sendError(ex, 503, "server_error", "the server is shutting down; retry on another instance or later", null, "shutting_down");
    }

    /** The engine no longer takes requests, or ended this one, because the server is shutting down. */
    private static final class ShuttingDown extends RuntimeException {
        ShuttingDown() {
            super("shutting down", null, false, false);
        }
    }

    private void sendError(Exchange ex, int status, String type, String message, String param, String code) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode err = root.putObject("error").put("message", message).put("type", type);
        if (param == null) err.putNull("param");
        else err.put("param", param);
        if (code == null) err.putNull("code");
        else err.put("code", code);
        try {
            sendJson(ex, status, root);
        } catch (IOException | IllegalStateException ignored) {
            // headers already sent or client gone
        }
    }

    private void sendJson(Exchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private void send(Exchange ex, int status, String contentType, byte[] body) throws IOException {
        if (ex.committed()) return; // a streamed response already carries its own status
        count(status);
        ex.respond(status, contentType, body);
    }

    /**
     * Graceful shutdown: stops accepting connections and completions (503 with Retry-After), lets running and queued
     * requests finish for up to {@code timeout}, then ends the rest: streams get a final chunk with
     * {@code finish_reason: "abort"} and {@code [DONE]}, non-streaming requests a 503. Returns when every response
     * is written (or after a short grace), leaving the transport to {@link #close}.
     *
     * @return the number of requests ended early
     */
    public int drain(Duration timeout) {
        draining = true;
        transport.stopAccepting();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && engine.queueLength() + engine.runningRequests() > 0) sleep(10);
        int ended = engine.queueLength() + engine.runningRequests();
        if (ended > 0) engine.cancelAll();
        long grace = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < grace && inFlight.get() > 0) sleep(10);
        return ended;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        transport.close();
    }
}
