package dev.floe.cli.serve;

import dev.floe.api.InvalidRequestException;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * Limits and options of the HTTP side of {@code floe serve}.
 *
 * @param headerTimeout  time a connection may take to send a request's headers, from their first byte
 * @param bodyTimeout    time a request may take to send its body once its headers are in
 * @param idleTimeout    time a connection may stay silent: between requests, and while a read or write is blocked
 * @param maxConnections most open connections; more wait in the kernel's accept queue. 0: derived from the
 *                       process's descriptor limit ({@link DescriptorBudget})
 * @param maxHeaderBytes largest request line plus headers; larger requests are answered 431
 * @param corsOrigins    origins allowed to call the API from a browser ({@code *} for any); empty: no CORS headers
 * @param accessLog      where one line per request goes, or null for none
 */
public record ServerOptions(Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout, int maxConnections,
                            int maxHeaderBytes, List<String> corsOrigins, PrintStream accessLog) {
    public static final ServerOptions DEFAULTS = new ServerOptions(Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofSeconds(60), 0, 16 * 1024, List.of(), null);

    public ServerOptions {
        positive("header timeout", headerTimeout);
        positive("body timeout", bodyTimeout);
        positive("idle timeout", idleTimeout);
        if (maxConnections < 0) throw new InvalidRequestException("--max-connections must be >= 0 (0: from the descriptor limit), got " + maxConnections);
        if (maxHeaderBytes < 1024 || maxHeaderBytes > 1 << 20) {
            throw new InvalidRequestException("--max-header-bytes must be in [1024, 1048576], got " + maxHeaderBytes);
        }
        corsOrigins = List.copyOf(corsOrigins);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) throw new InvalidRequestException(what + " must be positive, got " + d);
    }

    public ServerOptions withMaxConnections(int n) {
        return new ServerOptions(headerTimeout, bodyTimeout, idleTimeout, n, maxHeaderBytes, corsOrigins, accessLog);
    }

    public ServerOptions withTimeouts(Duration header, Duration body, Duration idle) {
        return new ServerOptions(header, body, idle, maxConnections, maxHeaderBytes, corsOrigins, accessLog);
    }

    public ServerOptions withMaxHeaderBytes(int n) {
        return new ServerOptions(headerTimeout, bodyTimeout, idleTimeout, maxConnections, n, corsOrigins, accessLog);
    }

    public ServerOptions withCors(List<String> origins) {
        return new ServerOptions(headerTimeout, bodyTimeout, idleTimeout, maxConnections, maxHeaderBytes, origins, accessLog);
    }

    public ServerOptions withAccessLog(PrintStream log) {
        return new ServerOptions(headerTimeout, bodyTimeout, idleTimeout, maxConnections, maxHeaderBytes, corsOrigins, log);
    }
}
