package dev.floe.cli;

import dev.floe.cli.serve.LengthDistribution;
import dev.floe.cli.serve.LoadGenerator;
import dev.floe.cli.serve.LoadGenerator.Report;
import dev.floe.cli.serve.OpenAiServer;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.bench.BenchPreset;
import dev.floe.runtime.bench.SyntheticWeights;
import dev.floe.runtime.bench.WeightFormat;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.tokenizer.HfTokenizer;
import dev.floe.runtime.serving.PassCounters;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code floe bench-serve}: starts {@code floe serve} in-process on a loopback port for each scheduler and drives it
 * with concurrent streaming clients, reporting throughput, time to first token and inter-token latency.
 */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Load-test the HTTP server with concurrent streaming clients, for each scheduler.")
final class BenchServeCommand implements Callable<Integer> {
    @Mixin
    ModelArgs model;

    @Option(names = "--clients", defaultValue = "16", description = "concurrent streaming clients (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--requests", defaultValue = "64", description = "requests per scheduler (default: ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--max-tokens", defaultValue = "128", description = "largest max_tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--min-tokens", defaultValue = "8", description = "smallest max_tokens; requests draw from [min, max] (default: ${DEFAULT-VALUE})")
    int minTokens;

    @Option(names = "--length-distribution", defaultValue = "uniform", paramLabel = "NAME",
            description = "how max_tokens is drawn from [min, max]: uniform, or exponential (min plus an exponential draw "
                    + "of mean (max - min)/4, cut at max: most requests short, a few long) (default: ${DEFAULT-VALUE})")
    String lengthDistribution;

    @Option(names = "--schedulers", split = ",", defaultValue = "static,continuous,splitfuse", description = "schedulers to compare (default: ${DEFAULT-VALUE})")
    List<String> schedulers;

    @Option(names = "--max-batch", defaultValue = "16", description = "most sequences per pass (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--token-budget", defaultValue = "256", description = "most tokens per pass (default: ${DEFAULT-VALUE})")
    int tokenBudget;

    @Option(names = "--in-process", description = "submit to the engine directly instead of over HTTP (measures the engine alone)")
    boolean inProcess;

    @Option(names = "--rounds", defaultValue = "1", description = "run every scheduler this many times, rotating which goes first (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--seed", defaultValue = "7", description = "seed of the workload (prompt lengths, max_tokens)")
    long seed;

    @Option(names = "--shared-prefix", defaultValue = "0", description = "tokens of a system prompt every request starts with (default: ${DEFAULT-VALUE})")
    int sharedPrefix;

    @Option(names = "--prefix-caching", split = ",", defaultValue = "on", description = "on, off or on,off to compare (default: ${DEFAULT-VALUE})")
    List<String> prefixCaching;

    @Option(names = "--preset", paramLabel = "NAME", description = "serve a synthetic model of a `floe bench` geometry (random weights, "
            + "the --model folder's tokenizer and vocabulary) instead of --model's weights: peer-cpu, arctic-1gpu, small")
    String preset;

    @Option(names = "--layers", defaultValue = "0", description = "with --preset: this many layers instead of the geometry's")
    int layers;

    @Option(names = "--weights", defaultValue = "bf16", description = "with --preset: bf16, fp8 or fp8-head (default: ${DEFAULT-VALUE})")
    String weights;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) throw new IllegalArgumentException("--rounds: " + rounds + " is not positive");
        if (clients < 1 || requests < 1) throw new IllegalArgumentException("--clients and --requests must be positive: " + clients + ", " + requests);
        if (sharedPrefix < 0) throw new IllegalArgumentException("--shared-prefix: " + sharedPrefix + " is negative");
        for (String p : prefixCaching) {
            if (!p.equals("on") && !p.equals("off")) throw new IllegalArgumentException("--prefix-caching: '" + p + "' is neither on nor off");
        }
        if (layers < 0) throw new IllegalArgumentException("--layers: " + layers + " is negative");
        WeightFormat.named(weights, "--weights"); // before building anything
        LengthDistribution lengths = LengthDistribution.named(lengthDistribution);
        try (FloeModel m = preset == null ? model.load() : synthetic()) {
            List<LoadGenerator.Job> jobs = workload(m, lengths);
            String name = preset == null ? model.modelDir().getFileName().toString()
                    : preset + (layers > 0 ? "-" + layers + "l" : "") + "-" + weights;
            System.out.printf("bench-serve: %s on %s (%s), %s, %d clients, %d requests, max_tokens %d..%d %s (mean %.1f), max batch %d, token budget %d, shared prefix %d tokens%n",
                    name, m.backend(), m.device(), inProcess ? "in-process" : "over HTTP", clients, requests, min(), maxTokens, lengths,
                    jobs.stream().mapToInt(LoadGenerator.Job::maxTokens).average().orElse(0), maxBatch, tokenBudget, sharedPrefix);
            System.out.printf("%-12s %8s %10s %9s %9s %9s %9s %9s %9s %7s%n", "scheduler", "tokens", "tokens/s",
                    "ttft p50", "ttft p90", "ttft p99", "itl p50", "itl p90", "itl p99", "failed");
            // warm-up: every scheduler once on a short workload, so that none pays for JIT compilation in its timed run
            List<String> variants = new ArrayList<>();
            for (String s : schedulers) for (String p : prefixCaching) variants.add(prefixCaching.size() > 1 ? s + (p.equals("on") ? "+pc" : "") : s);
            for (String s : variants) runOne(m, name, s, jobs.subList(0, Math.min(jobs.size(), clients)));
            Map<String, List<Double>> throughput = new LinkedHashMap<>();
            List<String> counters = new ArrayList<>();
            Map<String, long[]> passesByRows = new LinkedHashMap<>();
            long[] nanosByRows = new long[PassCounters.ROWS_TRACKED + 1];
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < variants.size(); i++) {
                    String s = variants.get((i + round) % variants.size());
                    Run run = runOne(m, name, s, jobs);
                    Report r = run.report();
                    PassCounters.Snapshot p = run.passes();
                    counters.add(String.format("%-5d %-12s %7d %8.2f %8.2f %8.2f %9.2f %9.1f", round + 1, s, p.passes(), p.rowsPerPass(),
                            p.decodeRowsPerPass(), p.promptRowsPerPass(), p.expectedExpertsPerPass(m.config().numExperts(), m.config().topK()),
                            p.millisPerPass()));
                    long[] mine = passesByRows.computeIfAbsent(s, k -> new long[PassCounters.ROWS_TRACKED + 1]);
                    for (int k = 0; k < mine.length; k++) {
                        mine[k] += p.passesByRows()[k];
                        nanosByRows[k] += p.nanosByRows()[k];
                    }
                    throughput.computeIfAbsent(s, k -> new ArrayList<>()).add(r.tokensPerSecond());
                    System.out.printf("%-12s %8d %10.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %7d%n", s, r.tokens(), r.tokensPerSecond(),
                            Report.quantile(r.ttftMs(), 0.5), Report.quantile(r.ttftMs(), 0.9), Report.quantile(r.ttftMs(), 0.99),
                            Report.quantile(r.itlMs(), 0.5), Report.quantile(r.itlMs(), 0.9), Report.quantile(r.itlMs(), 0.99), r.failed());
                }
            }
            System.out.println();
            System.out.printf("%-5s %-12s %7s %8s %8s %8s %9s %9s%n", "round", "scheduler", "passes", "rows", "decode", "prompt", "experts", "ms/pass");
            counters.forEach(System.out::println);
            System.out.println("(engine counters, independent of load: forward passes, mean rows per pass, of which decode rows (one new"
                    + " token of a sequence) and prompt rows; experts: distinct experts a pass touches per MoE layer if the router"
                    + " picks uniformly, " + m.config().topK() + " of " + m.config().numExperts() + ")");
            System.out.println();
            printCostByRows(passesByRows, nanosByRows);
            System.out.println();
            List<Double> base = throughput.get(variants.getFirst());
            if (variants.size() > 1) {
                StringBuilder line = new StringBuilder("throughput against " + variants.getFirst() + " (median of " + rounds + "):");
                for (String s : variants.subList(1, variants.size())) {
                    line.append(String.format(" %s %.2fx", s, median(throughput.get(s)) / median(base)));
                }
                System.out.println(line);
                StringBuilder modelled = new StringBuilder("modelled throughput against " + variants.getFirst() + ":");
                double baseMillis = modelledMillis(passesByRows.get(variants.getFirst()), passesByRows, nanosByRows);
                for (String s : variants.subList(1, variants.size())) {
                    modelled.append(String.format(" %s %.2fx", s, baseMillis / modelledMillis(passesByRows.get(s), passesByRows, nanosByRows)));
                }
                System.out.println(modelled.append(" (each scheduler's passes priced at the sitting's mean time of a pass of as many rows,"
                        + " rows in power-of-two groups: the load swings of single runs average out)"));
            }
            System.out.println("(latencies in ms; ttft = time to first token, itl = inter-token latency, measured by the clients"
                    + (prefixCaching.size() > 1 ? "; +pc = with prefix caching" : "") + ")");
        }
        return 0;
    }

    /**
     * A model of {@code --preset}'s geometry with random weights: what a memory-bound server looks like (weights far
     * larger than the cache) without a large checkpoint. Its vocabulary is the tokenizer's, so that text goes in and out.
     */
    private FloeModel synthetic() {
        BenchPreset p = BenchPreset.named(preset);
        Tokenizer tokenizer = HfTokenizer.load(model.modelDir());
        BenchPreset geometry = new BenchPreset(p.name(), layers > 0 ? layers : p.layers(), p.hidden(), p.heads(), p.kvHeads(), p.headDim(),
                p.experts(), p.expertWidth(), p.topK(), tokenizer.vocabSize(), p.description());
        Progress progress = new Progress("building " + preset + " " + weights);
        SyntheticWeights tensors = new SyntheticWeights(geometry.config(), WeightFormat.named(weights, "--weights"), b -> progress.step((int) (b >> 20)));
        try {
            return FloeEngine.assemble(geometry.config(), tensors, tokenizer, Path.of("synthetic:" + preset), model.options(), List.of(tensors), l -> { });
        } catch (RuntimeException e) {
            tensors.close();
            throw e;
        } finally {
            progress.done();
        }
    }

    /** What one timed run measured: the clients' report and the engine's pass counters. */
    private record Run(Report report, PassCounters.Snapshot passes) {
    }

    /**
     * Each scheduler's passes by their rows (all its timed runs), and the time of a pass by its rows over every timed
     * run of the sitting: the cost model that decides whether a fuller batch pays. Rows in power-of-two groups.
     */
    private static void printCostByRows(Map<String, long[]> passes, long[] nanos) {
        StringBuilder head = new StringBuilder(String.format("%-9s", "rows"));
        for (String s : passes.keySet()) head.append(String.format(" %12s", s));
        System.out.println(head.append(String.format(" %9s %9s", "ms/pass", "ms/row")));
        for (int lo = 1; lo < nanos.length; lo *= 2) {
            int hi = Math.min(nanos.length - 1, lo * 2 - 1);
            long all = 0, t = 0, rows = 0;
            StringBuilder line = new StringBuilder(String.format("%-9s", lo == hi ? Integer.toString(lo) : lo + "-" + (hi == nanos.length - 1 ? "" : hi)));
            for (long[] counts : passes.values()) {
                long n = 0;
                for (int r = lo; r <= hi; r++) {
                    n += counts[r];
                    rows += counts[r] * r;
                }
                all += n;
                line.append(String.format(" %12d", n));
            }
            for (int r = lo; r <= hi; r++) t += nanos[r];
            if (all > 0) System.out.println(line.append(String.format(" %9.1f %9.2f", t / 1e6 / all, t / 1e6 / rows)));
        }
        System.out.println("(passes of each scheduler by their rows, over its timed runs; ms: wall time of a pass by its rows, all"
                + " timed runs together, load-dependent)");
    }

    /**
     * The time {@code passes} (by rows) would take at the sitting's mean time of a pass of as many rows (power-of-two
     * groups of rows, pooled over every scheduler's runs): one cost model for all, so the swings of the machine's
     * load between single runs average out and what differs is the passes each scheduler ran.
     */
    private static double modelledMillis(long[] passes, Map<String, long[]> all, long[] nanos) {
        double total = 0;
        for (int lo = 1; lo < nanos.length; lo *= 2) {
            int hi = Math.min(nanos.length - 1, lo * 2 - 1);
            long mine = 0, pooled = 0, t = 0;
            for (int r = lo; r <= hi; r++) {
                mine += passes[r];
                t += nanos[r];
                for (long[] counts : all.values()) pooled += counts[r];
            }
            if (mine > 0) total += mine * (t / 1e6 / pooled);
        }
        return total;
    }

    /** One timed run; {@code variant} is a scheduler name, with "+pc" for prefix caching when both are compared. */
    private Run runOne(FloeModel m, String name, String variant, List<LoadGenerator.Job> jobs) throws Exception {
        boolean caching = prefixCaching.size() > 1 ? variant.endsWith("+pc") : prefixCaching.getFirst().equals("on");
        String scheduler = variant.endsWith("+pc") ? variant.substring(0, variant.length() - 3) : variant;
        ServingConfig config = new ServingConfig(Math.max(64, clients * 2), maxBatch, tokenBudget).withPrefixCaching(caching);
        m.kvBlocks().dropCached(); // every run starts cold: the prompts repeat from run to run
        try (ServingEngine engine = new ServingEngine(m, Schedulers.create(scheduler), config)) {
            if (inProcess) return new Run(LoadGenerator.runInProcess(engine, jobs, clients), engine.metrics().passes().snapshot());
            try (OpenAiServer server = new OpenAiServer(engine, name, "127.0.0.1", 0, null)) {
                Report report = LoadGenerator.run("http://127.0.0.1:" + server.port(), name, jobs, clients);
                return new Run(report, engine.metrics().passes().snapshot());
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private int min() {
        return Math.clamp(minTokens, 1, maxTokens);
    }

    /**
     * Prompts of varied length and varied max_tokens, the same for every scheduler; with {@code --shared-prefix},
     * each starts with the same system prompt of that many tokens.
     */
    private List<LoadGenerator.Job> workload(FloeModel m, LengthDistribution lengths) {
        String[] words = {"def", "return", "the", "value", "for", "index", "in", "range", "print", "list", "import", "class"};
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder system = new StringBuilder();
        for (int w = 0; sharedPrefix > 0 && m.tokenizer().encode(system.toString(), true).length < sharedPrefix; w++) {
            system.append(words[(w * 7) % words.length]).append(w % 9 == 8 ? "\n" : " ");
        }
        List<LoadGenerator.Job> jobs = new ArrayList<>();
        int min = min();
        for (int i = 0; i < requests; i++) {
            StringBuilder prompt = new StringBuilder(system);
            int n = 4 + random.nextInt(60);
            for (int w = 0; w < n; w++) prompt.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            jobs.add(new LoadGenerator.Job(prompt.toString(), lengths.draw(random, min, maxTokens)));
        }
        return jobs;
    }
}
