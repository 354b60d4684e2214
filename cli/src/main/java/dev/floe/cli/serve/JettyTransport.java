package dev.floe.cli.serve;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP transport of {@code floe serve}: Jetty 12 with one virtual thread per request, a connection limit below
 * the descriptor limit, an idle timeout, a header size limit (431), header and body deadlines, a JSON error body
 * for what Jetty rejects itself, and an access log. It knows nothing of the OpenAI API: it hands each request to
 * an {@link Api} as an {@link Exchange}.
 *
 * <p>It starts in two steps so that nothing initialises lazily on the first real response (where it could fail,
 * for example when descriptors are short): construction starts the server with an in-memory connector only,
 * {@link #warm} pushes requests through the whole stack, and {@link #listen} opens the network port.
 */
final class JettyTransport implements AutoCloseable {
    /** What serves a request. */
    @FunctionalInterface
    interface Api {
        void handle(Exchange exchange) throws IOException;
    }

    /** Jetty's start and stop notices are not news; its warnings are. Held here: JUL keeps loggers weakly. */
    private static final java.util.logging.Logger JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

    static {
        JETTY_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final ServerOptions options;
    private final Api api;
    private final Server server;
    private final LocalConnector local;
    private final int maxConnections;
    private final ConnectionGuard guard;
    private final HttpConfiguration config;
    private ServerConnector connector;

    JettyTransport(ServerOptions options, Api api) throws IOException {
        this.options = options;
        this.api = api;
        this.maxConnections = DescriptorBudget.connections(options.maxConnections());
        this.guard = new ConnectionGuard(options.headerTimeout().toNanos(), maxConnections);
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("floe-http");
        this.server = new Server(threads);
        this.config = new HttpConfiguration();
        config.setRequestHeaderSize(options.maxHeaderBytes());
        config.setSendServerVersion(false);
        config.setIdleTimeout(options.idleTimeout().toMillis());
        this.local = new LocalConnector(server, new HttpConnectionFactory(config));
        server.addConnector(local);
        server.setHandler(new Handler.Abstract(Invocable.InvocationType.BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(request, response, callback);
                return true;
            }
        });
        server.setErrorHandler(this::rejected);
        server.setStopTimeout(1000);
        try {
            server.start();
        } catch (Exception e) {
            throw new IOException("the HTTP server did not start: " + e.getMessage(), e);
        }
    }

    /** Sends a raw HTTP/1.1 request through the in-memory connector and returns the raw response. */
    String warm(String rawRequest) {
        try {
            return local.getResponse(rawRequest, rawRequest.startsWith("HEAD "), 10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("warming the HTTP server failed on " + rawRequest.lines().findFirst().orElse("") + ": " + e, e);
        }
    }

    /** Opens the network port; returns the bound port. */
    int listen(String host, int port) throws IOException {
        ServerConnector c = new ServerConnector(server, 1, -1, new HttpConnectionFactory(config));
        c.setHost(host);
        c.setPort(port);
        c.setIdleTimeout(options.idleTimeout().toMillis());
        c.setAcceptQueueSize(1024);
        c.setAcceptedTcpNoDelay(true); // token events are small writes; Nagle + delayed ACK would hold each 40 ms
        c.addBean(guard);
        server.addConnector(c);
        server.addBean(new NetworkConnectionLimit(maxConnections, c));
        try {
            c.start();
        } catch (Exception e) {
            server.removeConnector(c);
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        connector = c;
        return c.getLocalPort();
    }

    int port() {
        return connector == null ? -1 : connector.getLocalPort();
    }

    int maxConnections() {
        return maxConnections;
    }

    ConnectionGuard guard() {
        return guard;
    }

    /** Closes the listening socket: new connections are refused, open ones carry on. */
    void stopAccepting() {
        if (connector != null) connector.close();
    }

    private void serve(Request request, Response response, Callback callback) {
        long start = System.nanoTime();
        Connection connection = request.getConnectionMetaData().getConnection();
        guard.busy(connection);
        JettyExchange ex = new JettyExchange(request, response, options.bodyTimeout());
        try {
            api.handle(ex);
            callback.succeeded();
        } catch (Throwable t) {
            callback.failed(t);
        } finally {
            guard.ready(connection);
            log(request, ex.requestId(), ex.status(), ex.bytesOut(), start);
        }
    }

    /** Jetty's own rejections (431, a malformed request line, ...) in the API's JSON error shape. */
    private boolean rejected(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        Object attr = request.getAttribute(ErrorHandler.ERROR_STATUS);
        if (attr instanceof Integer s) status = s;
        Object message = request.getAttribute(ErrorHandler.ERROR_MESSAGE);
        String text = status == 431 ? "request headers exceed the limit of " + options.maxHeaderBytes() + " bytes"
                : message != null ? message.toString() : "bad request";
        String code = status == 431 ? "headers_too_large" : null;
        String body = "{\"error\":{\"message\":" + jsonString(text) + ",\"type\":\"invalid_request_error\",\"param\":null,\"code\":"
                + (code == null ? "null" : jsonString(code)) + "}}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        response.write(true, ByteBuffer.wrap(bytes), callback);
        log(request, "-", status, bytes.length, System.nanoTime());
        return true;
    }

    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private void log(Request request, String requestId, int status, long bytes, long startNanos) {
        if (options.accessLog() == null) return;
        AccessLog.write(options.accessLog(), Request.getRemoteAddr(request), request.getMethod(),
                request.getHttpURI().getPathQuery(), status, bytes, System.nanoTime() - startNanos, requestId);
    }

    /** Ends every connection and the server; handlers still running see their writes fail. */
    @Override
    public void close() {
        guard.close();
        try {
            server.stop();
        } catch (Exception e) {
            // stopping is best effort: the process is going away or the test is over
        }
    }
}
