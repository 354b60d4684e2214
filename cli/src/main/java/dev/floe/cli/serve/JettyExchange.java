package dev.floe.cli.serve;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** An {@link Exchange} over a Jetty request and response; used on the request's own (virtual) thread. */
final class JettyExchange implements Exchange {
    /** Longest client-sent request id that is echoed; longer or odd ones are replaced. */
    private static final int MAX_REQUEST_ID = 128;

    private final Request request;
    private final Response response;
    private final Duration bodyTimeout;
    private final String requestId;
    private final boolean head;
    private volatile boolean failed;
    /** Bytes of a pipelined next request read while probing for a closed connection: the connection must close. */
    private boolean probedData;
    private long bytesOut;

    JettyExchange(Request request, Response response, Duration bodyTimeout) {
        this.request = request;
        this.response = response;
        this.bodyTimeout = bodyTimeout;
        this.head = request.getMethod().equals("HEAD");
        String given = request.getHeaders().get("X-Request-Id");
        this.requestId = usable(given) ? given : UUID.randomUUID().toString();
        request.addFailureListener(x -> failed = true);
        response.getHeaders().put("X-Request-Id", requestId);
    }

    private static boolean usable(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_REQUEST_ID) return false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) return false;
        }
        return true;
    }

    @Override
    public String method() {
        return request.getMethod();
    }

    @Override
    public String path() {
        return request.getHttpURI().getPath();
    }

    @Override
    public String header(String name) {
        return request.getHeaders().get(name);
    }

    @Override
    public String requestId() {
        return requestId;
    }

    @Override
    public byte[] body(int maxBytes) throws IOException {
        long declared = request.getLength();
        if (declared > maxBytes) {
            throw new ApiError(413, "invalid_request_error", "request body of " + declared + " bytes exceeds the limit of " + maxBytes, null, "body_too_large");
        }
        CompletableFuture<byte[]> read = Content.Source.asByteArrayAsync(request, maxBytes + 1);
        try {
            byte[] body = read.get(bodyTimeout.toNanos(), TimeUnit.NANOSECONDS);
            if (body.length > maxBytes) throw tooLarge(maxBytes);
            return body;
        } catch (TimeoutException e) {
            read.cancel(false);
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            throw new ApiError(408, "invalid_request_error", "the request body did not arrive within " + bodyTimeout.toMillis() + " ms", null, "request_timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the request body", e);
        } catch (ExecutionException e) {
            if (Request.getContentBytesRead(request) > maxBytes) throw tooLarge(maxBytes);
            throw new IOException("reading the request body failed: " + e.getCause(), e.getCause());
        }
    }

    private static ApiError tooLarge(int maxBytes) {
        return new ApiError(413, "invalid_request_error", "request body exceeds the limit of " + maxBytes + " bytes", null, "body_too_large");
    }

    @Override
    public void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    @Override
    public void respond(int status, String contentType, byte[] body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        if (probedData) response.getHeaders().put(HttpHeader.CONNECTION, "close");
        bytesOut = body.length;
        Content.Sink.write(response, true, head ? BufferUtil.EMPTY_BUFFER : ByteBuffer.wrap(body));
    }

    @Override
    public OutputStream stream(int status, String contentType) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        Content.Sink.write(response, false, BufferUtil.EMPTY_BUFFER); // commits the headers now
        OutputStream out = Content.Sink.asOutputStream(response);
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                bytesOut++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                bytesOut += len;
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                out.close();
            }
        };
    }

    @Override
    public boolean committed() {
        return response.isCommitted();
    }

    /**
     * Jetty reads nothing from an HTTP/1.1 connection while its request is being handled, so a client that closes
     * is not noticed until something is written. This probes the socket without blocking: end-of-stream means the
     * client is gone. Bytes of a pipelined next request would be lost by the probe; seeing any, it stops probing
     * and the response closes the connection.
     */
    @Override
    public boolean clientGone() {
        if (failed) return true;
        if (probedData) return false;
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        if (!endPoint.isOpen()) return true;
        try {
            ByteBuffer probe = BufferUtil.allocate(1);
            int n = endPoint.fill(probe);
            if (n < 0) return true;
            if (n > 0) probedData = true;
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Status sent, for the access log. */
    int status() {
        return response.getStatus();
    }

    long bytesOut() {
        return bytesOut;
    }
}
