package dev.floe.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.floe.api.FinishReason;
import dev.floe.api.GeneratedToken;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.TokenSink;
import dev.floe.runtime.serving.QueueFullException;
import dev.floe.runtime.serving.RequestHandle;
import dev.floe.runtime.serving.ServingEngine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
                    default -> throw new ApiError(404, "invalid_request_error", "no endpoint " + method + " " + path, null, "not_found");
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
        root.putArray("data").addObject().put("id", modelName).put("object", "model").put("created", created).put("owned_by", "floe");
        return root;
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
        CompletionRequest req = CompletionRequest.parse(readBody(ex), chat, modelName, engine.model().tokenizer(),
                engine.maxNewTokens());
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long createdAt = System.currentTimeMillis() / 1000;
        if (!req.stream()) {
            RequestHandle handle = engine.submit(req.request(), t -> { });
            GenerationResult r = await(handle);
            ObjectNode root = envelope(id, chat ? "chat.completion" : "text_completion", createdAt);
            ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
            if (chat) choice.putObject("message").put("role", "assistant").put("content", r.text());
            else choice.put("text", r.text()).putNull("logprobs");
            choice.put("finish_reason", finishReason(r.finishReason()));
            root.set("usage", usage(r));
            RoutingCollector.addTo(root, req);
            sendJson(ex, 200, root);
            return;
        }
        StreamingSink sink = new StreamingSink();
        RequestHandle handle = engine.submit(req.request(), sink);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        count(200);
        try {
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            String object = chat ? "chat.completion.chunk" : "text_completion";
            if (chat) {
                ObjectNode first = envelope(id, object, createdAt);
                first.putArray("choices").addObject().put("index", 0).putNull("finish_reason")
                        .putObject("delta").put("role", "assistant").put("content", "");
                event(out, first);
            }
            while (true) {
                Object item = sink.queue.poll(100, TimeUnit.MILLISECONDS);
                if (item == null) {
                    if (handle.result().isDone() && sink.queue.isEmpty()) break;
                    continue;
                }
                GeneratedToken token = (GeneratedToken) item;
                if (token.text().isEmpty()) continue;
                ObjectNode chunk = envelope(id, object, createdAt);
                ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
                if (chat) choice.putObject("delta").put("content", token.text());
                else choice.put("text", token.text()).putNull("logprobs");
                choice.putNull("finish_reason");
                event(out, chunk);
            }
            GenerationResult r = await(handle);
            ObjectNode last = envelope(id, object, createdAt);
            ObjectNode choice = last.putArray("choices").addObject().put("index", 0);
            if (chat) choice.putObject("delta");
            else choice.put("text", "").putNull("logprobs");
            choice.put("finish_reason", finishReason(r.finishReason()));
            last.set("usage", usage(r));
            RoutingCollector.addTo(last, req);
            event(out, last);
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            // the client disconnected: stop generating and free the request's KV blocks
            sink.cancelled = true;
            handle.cancel();
            throw e;
        } catch (RuntimeException e) {
            // the request failed in the engine after the headers went out: say so in the stream
            sink.cancelled = true;
            handle.cancel();
            ObjectNode error = JSON.createObjectNode();
            error.putObject("error").put("message", String.valueOf(e.getMessage())).put("type", "server_error").putNull("param").putNull("code");
            event(ex.getResponseBody(), error);
            ex.getResponseBody().write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            handle.cancel();
            Thread.currentThread().interrupt();
        }
    }

    /** Hands tokens from the engine thread to the exchange's thread. */
    private static final class StreamingSink implements TokenSink {
        final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        volatile boolean cancelled;

        @Override
        public void onToken(GeneratedToken token) {
            queue.add(token);
        }

        @Override
        public boolean cancelled() {
            return cancelled;
        }
    }

    private static GenerationResult await(RequestHandle handle) {
        try {
            return handle.result().get();
        } catch (InterruptedException e) {
            handle.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for request " + handle.id());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidRequestException ire) throw ire;
            throw new IllegalStateException("request " + handle.id() + " failed: " + cause, cause);
        }
    }

    private static String finishReason(FinishReason r) {
        return switch (r) {
            case LENGTH, CONTEXT -> "length";
            case EOS, STOP, CANCELLED -> "stop";
        };
    }

    private ObjectNode envelope(String id, String object, long createdAt) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", createdAt).put("model", modelName);
    }

    private static ObjectNode usage(GenerationResult r) {
        return JSON.createObjectNode().put("prompt_tokens", r.promptTokens()).put("completion_tokens", r.tokens().length)
                .put("total_tokens", r.promptTokens() + r.tokens().length);
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
