package dev.floe.cli.serve;

import dev.floe.api.FinishReason;
import dev.floe.runtime.serving.Histogram;
import dev.floe.runtime.serving.ServingEngine;
import dev.floe.runtime.serving.ServingMetrics;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/** Renders the engine's metrics in the Prometheus text exposition format. */
final class PrometheusMetrics {
    private PrometheusMetrics() {
    }

    static String render(ServingEngine engine, Map<Integer, AtomicLong> byStatus) {
        ServingMetrics m = engine.metrics();
        StringBuilder sb = new StringBuilder();
        histogram(sb, "floe_time_to_first_token_seconds", "Time from submission to the first generated token", m.timeToFirstToken());
        histogram(sb, "floe_inter_token_latency_seconds", "Time between consecutive tokens of a request", m.interTokenLatency());
        gauge(sb, "floe_queue_length", "Requests waiting to start", engine.queueLength());
        gauge(sb, "floe_running_requests", "Requests holding KV blocks", engine.runningRequests());
        gauge(sb, "floe_kv_blocks_used", "KV blocks in use", engine.kvBlocksUsed());
        gauge(sb, "floe_kv_blocks_total", "KV blocks in the pool", engine.model().kvBlocks().totalBlocks());
        sb.append("# HELP floe_requests_total Requests by final status\n# TYPE floe_requests_total counter\n");
        for (FinishReason r : FinishReason.values()) {
            sb.append("floe_requests_total{status=\"").append(r.name().toLowerCase(Locale.ROOT)).append("\"} ").append(m.finished(r)).append('\n');
        }
        sb.append("floe_requests_total{status=\"rejected\"} ").append(m.rejected()).append('\n');
        sb.append("floe_requests_total{status=\"failed\"} ").append(m.failed()).append('\n');
        sb.append("# HELP floe_http_responses_total HTTP responses by status code\n# TYPE floe_http_responses_total counter\n");
        new TreeMap<>(byStatus).forEach((code, n) -> sb.append("floe_http_responses_total{code=\"").append(code).append("\"} ").append(n.get()).append('\n'));
        counter(sb, "floe_generated_tokens_total", "Tokens generated", m.generatedTokens());
        counter(sb, "floe_preemptions_total", "Sequences preempted for recomputation", m.preemptions());
        var passes = m.passes().snapshot();
        counter(sb, "floe_forward_passes_total", "Forward passes run by the engine", passes.passes());
        counter(sb, "floe_forward_decode_rows_total", "Rows of forward passes feeding a newly generated token", passes.decodeRows());
        counter(sb, "floe_forward_prompt_rows_total", "Rows of forward passes feeding prompt tokens (or recomputing a preempted sequence)", passes.promptRows());
        counter(sb, "floe_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache", m.prefixCacheQueries());
        counter(sb, "floe_prefix_cache_hits_total", "Prompt tokens found in the prefix cache (not computed again)", m.prefixCacheHits());
        sb.append("# HELP floe_prefix_cache_hit_rate Prefix cache hits over queries since start\n# TYPE floe_prefix_cache_hit_rate gauge\n")
                .append("floe_prefix_cache_hit_rate ").append(String.format(Locale.ROOT, "%.4f", m.prefixCacheHitRate())).append('\n');
        gauge(sb, "floe_kv_blocks_cached", "KV blocks registered for prefix caching", engine.model().kvBlocks().cachedBlocks());
        return sb.toString();
    }

    private static void histogram(StringBuilder sb, String name, String help, Histogram h) {
        Histogram.Snapshot s = h.snapshot();
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" histogram\n");
        long[] c = s.cumulative();
        for (int i = 0; i < Histogram.BOUNDS.length; i++) {
            sb.append(name).append("_bucket{le=\"").append(Histogram.BOUNDS[i]).append("\"} ").append(c[i]).append('\n');
        }
        sb.append(name).append("_bucket{le=\"+Inf\"} ").append(c[c.length - 1]).append('\n');
        sb.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.6f", s.sum())).append('\n');
        sb.append(name).append("_count ").append(s.count()).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(value).append('\n');
    }

    /** The transport's connections: open, the limit, and those the connection guard closed and why. */
    static String connections(JettyTransport transport) {
        ConnectionGuard g = transport.guard();
        StringBuilder sb = new StringBuilder();
        gauge(sb, "floe_http_connections_open", "Open HTTP connections", g.openConnections());
        gauge(sb, "floe_http_connections_max", "Most open HTTP connections (the rest wait to be accepted)", transport.maxConnections());
        sb.append("# HELP floe_http_connections_closed_total Connections closed by the server's guard\n")
                .append("# TYPE floe_http_connections_closed_total counter\n")
                .append("floe_http_connections_closed_total{reason=\"header_timeout\"} ").append(g.headerTimeouts()).append('\n')
                .append("floe_http_connections_closed_total{reason=\"shed_near_limit\"} ").append(g.shedUnderPressure()).append('\n');
        return sb.toString();
    }
}
