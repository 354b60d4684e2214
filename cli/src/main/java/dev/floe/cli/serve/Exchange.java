package dev.floe.cli.serve;

import java.io.IOException;
import java.io.OutputStream;

/**
 * One HTTP request and its response as the OpenAI API layer sees them. The transport ({@link JettyTransport})
 * implements it; no transport type leaks into the request semantics, so either can change without the other.
 */
interface Exchange {
    String method();

    /** The path without the query. */
    String path();

    /** The first value of a request header, or null. */
    String header(String name);

    /** The request's id: the client's {@code X-Request-Id} when it sent a usable one, else a fresh one. */
    String requestId();

    /**
     * The whole request body, read within the transport's body deadline.
     *
     * @throws ApiError 413 when it is longer than {@code maxBytes}, 408 when it does not arrive in time
     */
    byte[] body(int maxBytes) throws IOException;

    /** Sets a response header (before the response is committed). */
    void setHeader(String name, String value);

    /** Sends a whole response; to a {@code HEAD} request without its body. */
    void respond(int status, String contentType, byte[] body) throws IOException;

    /** Commits the status and headers of a streamed response and returns its body; every write is sent at once. */
    OutputStream stream(int status, String contentType) throws IOException;

    /** Whether the response is committed (its status is on the wire). */
    boolean committed();

    /**
     * Whether the client has closed the connection. Cheap, never blocks, and may be called while a response is
     * pending: it is how a non-streaming request notices that nobody waits for it.
     */
    boolean clientGone();
}
