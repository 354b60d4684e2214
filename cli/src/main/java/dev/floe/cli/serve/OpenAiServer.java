package dev.floe.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.serving.QueueFullException;
import dev.floe.runtime.serving.ServingEngine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server over a {@link ServingEngine}, on the JDK's {@code com.sun.net.httpserver} with one
 * virtual thread per exchange. Token streaming goes from the engine thread through a per-request queue to the
 * exchange's thread, so a slow client never holds the engine; a client that goes away cancels its request.
 */
public final class OpenAiServer implements AutoCloseable {
    /** Largest request body accepted. */
    public static final int MAX_BODY = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Token events are small writes: with Nagle's algorithm on, each waits for the client's delayed ACK (40 ms
        // on Linux) whenever the previous one is unacknowledged. The JDK server reads this once, at first use.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private final ServingEngine engine;
    private final String modelName;
    private final byte[] apiKey;
    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Binds and starts the server.
     *
     * @param apiKey the key every endpoint but {@code /health} requires as {@code Authorization: Bearer KEY}; null for none
     */
    public OpenAiServer(ServingEngine engine, String modelName, String host, int port, String apiKey) throws IOException {
        this.engine = engine;
        this.modelName = modelName;
        this.apiKey = apiKey == null || apiKey.isEmpty() ? null : ("Bearer " + apiKey).getBytes(StandardCharsets.UTF_8);
        this.http = HttpServer.create(new InetSocketAddress(host, port), 128);
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    public String modelName() {
        return modelName;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                switch (path) {
                    case "/health" -> {
                        allow(method, "GET");
                        sendJson(ex, 200, JSON.createObjectNode().put("status", "ok"));
                    }
                    case "/v1/models" -> {
                        authorize(ex);
                        allow(method, "GET");
                        sendJson(ex, 200, models());
                    }
                    case "/metrics" -> {
                        authorize(ex);
                        allow(method, "GET");
                        send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", PrometheusMetrics.render(engine, byStatus).getBytes(StandardCharsets.UTF_8));
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
                if (e.status == 405) ex.getResponseHeaders().set("Allow", e.code);
                sendError(ex, e.status, e.type, e.getMessage(), e.param, e.status == 405 ? "method_not_allowed" : e.code);
            } catch (QueueFullException e) {
                sendError(ex, 429, "rate_limit_exceeded", e.getMessage(), null, "queue_full");
            } catch (InvalidRequestException e) {
                sendError(ex, 400, "invalid_request_error", e.getMessage(), null, null);
            } catch (IOException e) {
                // the client went away while we answered: nothing left to tell it
            } catch (RuntimeException e) {
                sendError(ex, 500, "server_error", "internal error: " + e, null, null);
            }
        }
    }

    private static void allow(String method, String allowed) {
        if (!method.equals(allowed)) throw new ApiError(405, "invalid_request_error", "method " + method + " is not allowed here; use " + allowed, null, allowed);
    }

    private void authorize(HttpExchange ex) {
        if (apiKey == null) return;
        String given = ex.getRequestHeaders().getFirst("Authorization");
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

    private JsonNode readBody(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > MAX_BODY) throw new ApiError(413, "invalid_request_error", "request body of " + length + " bytes exceeds the limit of " + MAX_BODY, null, "body_too_large");
            } catch (NumberFormatException e) {
                throw ApiError.invalid("bad Content-Length '" + length + "'", null);
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] body = in.readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) throw new ApiError(413, "invalid_request_error", "request body exceeds the limit of " + MAX_BODY + " bytes", null, "body_too_large");
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid("the request body is not valid JSON: " + e.getOriginalMessage(), null, "invalid_json");
        }
    }

    private void complete(HttpExchange ex, boolean chat) throws IOException {
        CompletionRequest req = CompletionRequest.parse(readBody(ex), chat, modelName, engine);
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long createdAt = System.currentTimeMillis() / 1000;
        String object = chat ? (req.stream() ? "chat.completion.chunk" : "chat.completion") : "text_completion";
        CompletionRun run = new CompletionRun(engine, req);
        if (!req.stream()) {
            ObjectNode root = envelope(id, object, createdAt);
            try {
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
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        count(200);
        try {
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
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
                        if (run.holdsText() || run.tokenChoice(chunk, t, textOffset[t.choice()]) == null) continue;
                        textOffset[t.choice()] += t.token().text().length();
                    }
                    case CompletionRun.DoneEvent d -> {
                        if (d.failure() != null) throw CompletionRun.failure(d.failure());
                        done++;
                        completionTokens += d.result().tokens().length;
                        run.finishChoice(chunk, d);
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
            event(ex.getResponseBody(), error);
            ex.getResponseBody().write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            run.cancel();
            Thread.currentThread().interrupt();
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

    private void sendError(HttpExchange ex, int status, String type, String message, String param, String code) throws IOException {
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

    private void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        count(status);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
