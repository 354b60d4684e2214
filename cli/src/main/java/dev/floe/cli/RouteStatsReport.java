package dev.floe.cli;

import dev.floe.gating.RoutingTelemetry;

/**
 * What {@code floe route-stats} measured, as written to its JSON report.
 *
 * @param model           the model folder
 * @param router          the router in use, as the model reports it, with the spec given
 * @param backend         the backend that ran the passes
 * @param text            where the text came from
 * @param tokens          tokens fed
 * @param windows         prefill passes (each starts from an empty cache)
 * @param window          most tokens per pass
 * @param predictedTokens next-token predictions scored (tokens minus one per window)
 * @param meanNll         mean negative log-likelihood of those predictions, nats
 * @param perplexity      {@code exp(meanNll)}
 * @param seconds         wall time inside {@code prefill} for one run of the text ({@code tokens / tokensPerSecond})
 * @param tokensPerSecond prefill speed: the median over runs 2..N when the text ran N &gt; 1 times, else the one run
 * @param runTokensPerSecond   the speed of every run, the first (cold, with the observer attached) included
 * @param routing         the routing telemetry of the first run
 */
public record RouteStatsReport(String model, String router, String backend, String text, int tokens, int windows,
                               int window, long predictedTokens, double meanNll, double perplexity, double seconds,
                               double tokensPerSecond, java.util.List<Double> runTokensPerSecond,
                               RoutingTelemetry.Snapshot routing) {
    public RouteStatsReport {
        runTokensPerSecond = java.util.List.copyOf(runTokensPerSecond);
    }
}
