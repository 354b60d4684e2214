package dev.floe.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.floe.api.Floe;
import dev.floe.api.FloeException;
import dev.floe.api.Model;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.gating.RoutingTelemetry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code floe route-stats}: feeds a text through a model in windows with a {@link RoutingTelemetry} attached and
 * reports how the router spread the tokens (load per expert and layer, drops, entropy) next to what it cost in quality
 * (perplexity) and speed. Given several {@code --router}s it loads the model once per router, interleaves their timed
 * runs (so that a noisy machine slows them all alike) and prints them side by side.
 */
@Command(name = "route-stats", mixinStandardHelpOptions = true,
        description = "Runs a text through a model and reports its routing: perplexity, tokens/s, drop rate and "
                + "load balance per layer; optionally a JSON report and an SVG heat map of load per expert. "
                + "Repeat --router to compare strategies side by side.")
public final class RouteStatsCommand implements Callable<Integer> {
    /** The classpath resource used when no --text is given. */
    static final String SAMPLE = "route-sample.py";

    @Option(names = "--model", paramLabel = "DIR", description = "model folder (default: the built-in model)")
    Path model;

    @Option(names = "--router", paramLabel = "SPEC",
            description = "gating strategy NAME[:key=value,...] (default: softmax-topk); repeat to compare several")
    List<String> routers;

    @Option(names = "--text", paramLabel = "FILE", description = "text to run (default: a bundled sample of Python code)")
    Path text;

    @Option(names = "--report", paramLabel = "FILE", description = "write a JSON report here (an array for several routers)")
    Path report;

    @Option(names = "--image", paramLabel = "FILE",
            description = "write an SVG heat map of load per expert and layer here (one panel per router)")
    Path image;

    @Option(names = "--backend", paramLabel = "NAME", description = "backend (default: the best available)")
    String backend;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "4096", description = "most tokens of the text to run (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--window", paramLabel = "N", defaultValue = "256", description = "tokens per prefill pass (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
            description = "run the text N times per router; statistics come from the first run, speed is the median of "
                    + "runs 2..N when N > 1 (default: ${DEFAULT-VALUE})")
    int repeat;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
            description = "untimed, unobserved passes over the text's first window per router before anything is "
                    + "measured, so that the first timed run is not the JIT's (default: ${DEFAULT-VALUE})")
    int warmup;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (maxTokens < 2) return usage(err, "--max-tokens must be at least 2, got " + maxTokens);
        if (window < 2) return usage(err, "--window must be at least 2, got " + window);
        if (repeat < 1) return usage(err, "--repeat must be at least 1, got " + repeat);
        if (warmup < 0) return usage(err, "--warmup must be at least 0, got " + warmup);
        List<String> specs = routers == null || routers.isEmpty() ? java.util.Collections.singletonList(null) : routers;
        try {
            String source = text == null ? sample() : Files.readString(text);
            Path dir = model == null ? Floe.engine().builtInModel() : model;
            List<RouteStatsReport> results = measure(dir, specs, source);
            for (RouteStatsReport r : results) print(out, r);
            if (results.size() > 1) printComparison(out, results);
            if (report != null) {
                var writer = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                writer.writeValue(report.toFile(), results.size() == 1 ? results.getFirst() : results);
                out.println("report: " + report);
            }
            if (image != null) {
                Files.writeString(image, LoadHeatMap.svg(results.stream().map(r -> new LoadHeatMap.Panel(r.router(),
                        String.format(Locale.ROOT, "perplexity %.2f, drop rate %.1f%%, load CV %.2f", r.perplexity(),
                                100 * r.routing().dropRate(), r.routing().meanLoadCv()),
                        r.routing())).toList()));
                out.println("heat map: " + image);
            }
            out.flush();
            return 0;
        } catch (FloeException e) {
            err.println("route-stats: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("route-stats: " + e);
            return 1;
        }
    }

    /** One router's model, session and running sums. */
    private static final class Run implements AutoCloseable {
        final String spec;
        final Model model;
        final Session session;
        final RoutingTelemetry telemetry = new RoutingTelemetry();
        final double[] speeds;
        double nll;
        long predicted;
        int windows;

        Run(String spec, Model model, int span, int repeat) {
            this.spec = spec;
            this.model = model;
            this.session = model.newSession(span);
            this.speeds = new double[repeat];
        }

        @Override
        public void close() {
            session.close();
            model.close();
        }
    }

    private List<RouteStatsReport> measure(Path dir, List<String> specs, String source) {
        List<Run> runs = new ArrayList<>();
        try {
            for (String s : specs) {
                Model m = Floe.load(dir, ModelOptions.DEFAULTS.withRouter(s).withBackend(backend));
                try {
                    runs.add(new Run(s, m, Math.min(window, m.config().maxPositions()), repeat));
                } catch (RuntimeException e) {
                    m.close();
                    throw e;
                }
            }
            int[] ids = runs.getFirst().model.tokenizer().encode(source, true);
            if (ids.length > maxTokens) ids = Arrays.copyOf(ids, maxTokens);
            if (ids.length < 2) throw new FloeException("route-stats: the text gives " + ids.length + " token(s), need at least 2");
            int[] first = Arrays.copyOf(ids, Math.min(ids.length, runs.getFirst().session.capacity()));
            for (int k = 0; k < warmup; k++) {
                for (Run run : runs) {
                    run.session.reset();
                    run.session.prefill(first);
                }
            }
            // round-robin: every router's k-th run happens between the others' k-th runs
            for (int k = 0; k < repeat; k++) {
                for (Run run : runs) run.speeds[k] = ids.length / (pass(run, ids, k == 0) / 1e9);
            }
            List<RouteStatsReport> reports = new ArrayList<>();
            for (Run run : runs) reports.add(report(dir, run, ids.length));
            return reports;
        } finally {
            for (Run run : runs) run.close();
        }
    }

    /** Feeds the text once in windows; the first pass is observed and scored. Returns nanoseconds inside prefill. */
    private long pass(Run run, int[] ids, boolean first) {
        int span = run.session.capacity();
        run.session.observer(first ? run.telemetry : null);
        long nanos = 0;
        for (int start = 0; start < ids.length; start += span) {
            int[] chunk = Arrays.copyOfRange(ids, start, Math.min(ids.length, start + span));
            run.session.reset();
            long t0 = System.nanoTime();
            float[][] logits = run.session.prefill(chunk);
            nanos += System.nanoTime() - t0;
            if (!first) continue;
            run.windows++;
            for (int i = 0; i + 1 < chunk.length; i++) {
                run.nll += negativeLogLikelihood(logits[i], chunk[i + 1]);
                run.predicted++;
            }
        }
        run.session.observer(null);
        return nanos;
    }

    private RouteStatsReport report(Path dir, Run run, int tokens) {
        double meanNll = run.predicted == 0 ? Double.NaN : run.nll / run.predicted;
        String name = run.model.router() + (run.spec == null || run.spec.equals(run.model.router()) ? "" : " (" + run.spec + ")");
        String textName = text == null ? "built-in sample " + SAMPLE : text.toString();
        double speed = median(repeat == 1 ? run.speeds : Arrays.copyOfRange(run.speeds, 1, repeat));
        return new RouteStatsReport(dir.toString(), name, run.model.backend(), textName, tokens, run.windows,
                run.session.capacity(), run.predicted, meanNll, Math.exp(meanNll), tokens / speed, speed,
                Arrays.stream(run.speeds).boxed().toList(), run.telemetry.snapshot());
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** {@code -log softmax(logits)[target]} in float64. */
    static double negativeLogLikelihood(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        return Math.log(sum) + max - logits[target];
    }

    private static void print(PrintWriter out, RouteStatsReport r) {
        var routing = r.routing();
        out.printf(Locale.ROOT, "router %s on %s, backend %s%n", r.router(), r.model(), r.backend());
        out.printf(Locale.ROOT, "%d tokens in %d window(s) of %d: perplexity %.3f, %.1f tokens/s%s, drop rate %.2f%%%n",
                r.tokens(), r.windows(), r.window(), r.perplexity(), r.tokensPerSecond(),
                r.runTokensPerSecond().size() > 1 ? " (median of " + (r.runTokensPerSecond().size() - 1) + " warm runs)" : "",
                100 * routing.dropRate());
        out.printf(Locale.ROOT, "%-6s %8s %8s %8s %8s %9s %8s %8s  %s%n", "layer", "tokens", "dropped", "drop %", "load CV",
                "max/mean", "entropy", "agree %", "busiest experts");
        for (var layer : routing.layers()) {
            String busiest = layer.experts().stream()
                    .sorted((a, b) -> Long.compare(b.tokens(), a.tokens())).limit(3)
                    .map(e -> String.format(Locale.ROOT, "%d:%.0f%%", e.expert(), 100 * e.share()))
                    .reduce((a, b) -> a + " " + b).orElse("");
            out.printf(Locale.ROOT, "%-6d %8d %8d %8.2f %8.3f %9.2f %8.3f %8.1f  %s%n", layer.layer(), layer.tokens(),
                    layer.droppedTokens(), 100 * layer.dropRate(), layer.loadCv(), layer.maxOverMean(), layer.meanEntropy(),
                    100 * layer.agreement(), busiest);
        }
        long tokens = routing.layers().stream().mapToLong(RoutingTelemetry.LayerStats::tokens).sum();
        long pairs = routing.layers().stream().mapToLong(RoutingTelemetry.LayerStats::assignments).sum();
        out.printf(Locale.ROOT, "experts per token %.2f, mean load CV %.3f, worst max/mean %.2f, mean entropy %.3f nats, "
                        + "agreement with softmax-topk %.1f%%%n%n", tokens == 0 ? 0 : (double) pairs / tokens,
                routing.meanLoadCv(), routing.maxOverMean(), routing.meanEntropy(), 100 * routing.agreement());
    }

    private static void printComparison(PrintWriter out, List<RouteStatsReport> results) {
        int width = Math.max(6, results.stream().mapToInt(r -> r.router().length()).max().orElse(6));
        out.printf(Locale.ROOT, "%-" + width + "s %10s %10s %8s %8s %9s %8s %8s %11s %8s%n", "router", "perplexity", "tokens/s",
                "drop %", "load CV", "max/mean", "entropy", "agree %", "experts/tok", "mass/tok");
        for (RouteStatsReport r : results) {
            var s = r.routing();
            long tokens = s.layers().stream().mapToLong(RoutingTelemetry.LayerStats::tokens).sum();
            long pairs = s.layers().stream().mapToLong(RoutingTelemetry.LayerStats::assignments).sum();
            double mass = s.layers().stream().mapToDouble(l -> l.meanWeightSum() * l.tokens()).sum();
            out.printf(Locale.ROOT, "%-" + width + "s %10.3f %10.1f %8.2f %8.3f %9.2f %8.3f %8.1f %11.2f %8.3f%n", r.router(),
                    r.perplexity(), r.tokensPerSecond(), 100 * s.dropRate(), s.meanLoadCv(), s.maxOverMean(),
                    s.meanEntropy(), 100 * s.agreement(), tokens == 0 ? 0 : (double) pairs / tokens,
                    tokens == 0 ? 0 : mass / tokens);
        }
    }

    private static int usage(PrintWriter err, String message) {
        err.println("route-stats: " + message);
        return 2;
    }

    /** The bundled sample text. */
    static String sample() throws IOException {
        try (InputStream in = RouteStatsCommand.class.getResourceAsStream(SAMPLE)) {
            if (in == null) throw new IOException("resource " + SAMPLE + " is missing from the cli module");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
