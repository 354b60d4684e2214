package dev.floe.cli.serve;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One line per request, in a fixed order that tools can split on spaces:
 * {@code 2026-12-06T09:14:03.120Z 127.0.0.1 "POST /v1/completions" 200 512B 83.2ms id=REQUEST-ID}.
 */
final class AccessLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);

    private AccessLog() {
    }

    static String line(Instant at, String remote, String method, String target, int status, long bytes, long nanos, String requestId) {
        return String.format(Locale.ROOT, "%s %s \"%s %s\" %d %dB %.1fms id=%s", TIME.format(at), remote, method,
                target.replace('"', '\''), status, bytes, nanos / 1e6, requestId);
    }

    static void write(PrintStream out, String remote, String method, String target, int status, long bytes, long nanos, String requestId) {
        String line = line(Instant.now(), remote, method, target, status, bytes, nanos, requestId);
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
