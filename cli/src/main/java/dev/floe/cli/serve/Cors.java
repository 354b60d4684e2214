package dev.floe.cli.serve;

import java.util.List;

/**
 * Cross-origin resource sharing for browser clients, when origins are configured ({@code --cors-origin}): the
 * allowed origin is echoed (or {@code *}), and a preflight ({@code OPTIONS} with
 * {@code Access-Control-Request-Method}) is answered 204 without needing the API key, as browsers send none.
 */
final class Cors {
    static final String METHODS = "GET, HEAD, POST, OPTIONS";
    static final String HEADERS = "Authorization, Content-Type, X-Request-Id";
    static final String EXPOSED = "X-Request-Id, Retry-After";

    private Cors() {
    }

    /**
     * Adds the CORS headers a request from an allowed origin needs.
     *
     * @return true when the request was a preflight, to be answered 204 with no body
     */
    static boolean apply(Exchange ex, List<String> allowed) {
        if (allowed.isEmpty()) return false;
        String origin = ex.header("Origin");
        if (origin == null) return false;
        boolean any = allowed.contains("*");
        if (!any && !allowed.contains(origin)) return false;
        ex.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
        if (!any) ex.setHeader("Vary", "Origin");
        ex.setHeader("Access-Control-Expose-Headers", EXPOSED);
        if (!ex.method().equals("OPTIONS") || ex.header("Access-Control-Request-Method") == null) return false;
        ex.setHeader("Access-Control-Allow-Methods", METHODS);
        ex.setHeader("Access-Control-Allow-Headers", HEADERS);
        ex.setHeader("Access-Control-Max-Age", "600");
        return true;
    }
}
