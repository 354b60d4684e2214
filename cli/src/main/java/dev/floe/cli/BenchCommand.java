package dev.floe.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.floe.api.DType;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.bench.BenchPreset;
import dev.floe.runtime.bench.DecodeBenchmark;
import dev.floe.runtime.bench.WeightFormat;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.WeightArena;
import dev.floe.runtime.model.FloeModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code floe bench}: batch-1 decode of a synthetic Arctic-structured model against measured memory bandwidth. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Batch-1 decode speed of a synthetic model with Arctic's layer structure (random weights built "
                + "in memory), or of a checkpoint (--model), with the memory bandwidth measured in the same run and the ratio (MBU).",
                "Presets: peer-cpu (8 layers, hidden 2048, 16 x 1408 experts; 0.78 GB/token in BF16), arctic-1gpu "
                        + "(Arctic's real layer geometry with 8 experts), small."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "peer-cpu", description = "geometry (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--model", paramLabel = "DIR", description = "measure a real checkpoint instead of a synthetic preset (--preset and --weights do not apply)")
    Path model;

    @Option(names = "--weights", split = ",", defaultValue = "bf16,fp8", description = "weight formats to run: bf16, fp8 (the head BF16, as published FP8 checkpoints), fp8-head (the head FP8 "
            + "too, as llama.cpp's Q8_0 GGUFs) (default: ${DEFAULT-VALUE})")
    List<String> weights;

    @Option(names = "--tokens", defaultValue = "32", description = "decode steps timed (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--prompt", defaultValue = "16", description = "prompt tokens before decoding (default: ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--rounds", defaultValue = "1", description = "alternate the formats this many times (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--backend", split = ",", description = "backends to run, one after the other (default: best available)")
    List<String> backends = new ArrayList<>();

    @Option(names = "--threads", defaultValue = "0", description = "kernel threads (default: all cores)")
    int threads;

    @Option(names = {"-D", "--option"}, paramLabel = "KEY=VALUE", description = "backend or runtime option")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--batch", split = ",", paramLabel = "B", description = "also time decoding B sequences together, for each B given (e.g. 8,32,64): tokens/s and time per pass")
    List<Integer> batches = new ArrayList<>();

    @Option(names = "--pp", split = ",", paramLabel = "N", defaultValue = "64,256,512",
            description = "also time prompt processing of N-token prompts, for each N given (llama-bench's ppN; 0: none; default: ${DEFAULT-VALUE})")
    List<Integer> promptLengths;

    @Option(names = "--report", paramLabel = "FILE", description = "write the results as JSON")
    Path report;

    @Override
    public Integer call() throws IOException {
        BenchPreset p = BenchPreset.named(preset);
        if (tokens < 1 || prompt < 1) throw new IllegalArgumentException("--tokens and --prompt must be at least 1");
        for (int b : batches) {
            if (b < 2 || b > FloeModel.MAX_ROWS) {
                throw new IllegalArgumentException("--batch: " + b + " is not in [2, " + FloeModel.MAX_ROWS + "] (batch 1 is always measured; one pass takes at most "
                        + FloeModel.MAX_ROWS + " rows)");
            }
        }
        List<Integer> pp = promptLengths.stream().filter(n -> n != 0).toList();
        for (int n : pp) if (n < 0) throw new IllegalArgumentException("--pp: " + n + " is negative");
        List<WeightFormat> formats = weights.stream().map(w -> WeightFormat.named(w, "--weights")).toList();
        CheckpointFormat format = model == null ? null : CheckpointFormat.of(model);
        System.out.println(format == null ? "# " + p.name() + ": " + p.description() : "# " + model + ": " + format.label() + " weights");
        System.out.printf("%-13s %-10s %9s %12s %14s %14s %7s%n", "weights", "backend", "tokens/s", "GB/token", "read GB/s",
                "bandwidth GB/s", "MBU");
        List<DecodeBenchmark.Result> results = new ArrayList<>();
        List<String> runOn = backends.isEmpty() ? java.util.Collections.singletonList(null) : backends;
        for (int round = 0; round < rounds; round++) {
            // a checkpoint has one format, which its own label names: one run per backend and round
            for (String backend : runOn) for (WeightFormat w : format == null ? formats : java.util.Collections.<WeightFormat>singletonList(null)) {
                DecodeBenchmark.Options options = new DecodeBenchmark.Options(backend, threads, prompt, tokens, properties, batches, pp);
                DecodeBenchmark.Result r;
                if (format != null) {
                    r = DecodeBenchmark.run(model, format.label(), format.fp8(), format.fp8Head(), format.bytes(), options);
                } else {
                    Progress progress = new Progress("building " + p.name() + " " + w.option());
                    try {
                        r = DecodeBenchmark.run(p, w, options, b -> progress.step((int) (b >> 20)));
                    } finally {
                        progress.done();
                    }
                }
                results.add(r);
                System.out.printf("%-13s %-10s %9.2f %12.3f %14.1f %6.1f / %-6.1f %6.1f%%%n", r.weights(), r.backend(),
                        r.tokensPerSecond(), r.bytesPerToken() / 1e9, r.effectiveBandwidth(), r.bandwidthBefore(),
                        r.bandwidthAfter(), 100 * r.mbu());
                DecodeBenchmark.Traffic tr = r.traffic();
                System.out.printf("%-13s %-10s   per decode token: %.1f syncs, %.1f %s, %.0f bytes copied; %.1f dispatches per MoE layer%n",
                        r.weights(), r.backend(), tr.syncsPerToken(), tr.dispatchesPerToken(),
                        tr.counted() ? "dispatches" : "kernel calls", tr.bytesPerToken(), tr.dispatchesPerMoe());
                var ex = r.experts();
                System.out.printf("%-13s %-10s   experts while decoding: %d hits, %d misses, %d prefetched, %d evicted; %d resident%n",
                        r.weights(), r.backend(), ex.hits(), ex.misses(), ex.prefetched(), ex.evicted(), ex.resident());
                for (DecodeBenchmark.BatchResult b : r.batches()) {
                    System.out.printf("%-13s %-10s %9.2f   batch %-3d   %.2f ms per pass (%.0f tokens/s per sequence), %s%n", r.weights(),
                            r.backend(), b.tokensPerSecond(), b.batch(), b.stepMillis(), b.tokensPerSecond() / b.batch(),
                            utilisation(b.multiplyAddRate(), r.multiplyAddRate()));
                }
                for (DecodeBenchmark.PromptResult q : r.prompts()) {
                    System.out.printf("%-13s %-10s %9.2f   pp%-5d   %.3f s per prompt, %s%n", r.weights(), r.backend(),
                            q.tokensPerSecond(), q.tokens(), q.seconds(), utilisation(q.multiplyAddRate(), r.multiplyAddRate()));
                }
                for (int n : pp) {
                    if (r.prompts().stream().noneMatch(q -> q.tokens() == n)) {
                        System.out.printf("%-13s %-10s %9s   pp%-5d   left out: the model's context cannot hold %d tokens and one more%n",
                                r.weights(), r.backend(), "-", n, n);
                    }
                }
            }
        }
        results.stream().map(r -> r.backend() + ": " + r.device()).distinct().forEach(d -> System.out.println("device " + d));
        System.out.println("host weights " + hostWeights(format == null || FloeEngine.weightsInMemory(properties)));
        System.out.println("bandwidth = read bandwidth measured just before / after the timed decode with the kernels' threads "
                + "(NaN: the backend cannot measure it); MBU against their mean");
        if (!batches.isEmpty() || !pp.isEmpty()) {
            System.out.println("batch B = B sequences decoded together (B rows per pass); ppN = an N-token prompt prefilled in a fresh "
                    + "session (passes of at most " + FloeModel.MAX_ROWS + " rows), median of " + DecodeBenchmark.PROMPT_REPEATS
                    + " runs; peak = float32 multiply-add rate measured before and after them with the kernels' threads (the higher) (G = 10^9 per second)");
        }
        if (report != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), Map.of(
                    "preset", format == null ? p : model.toString(), "java", Runtime.version().toString(), "os", System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                    "processors", Runtime.getRuntime().availableProcessors(), "results", results));
        }
        return 0;
    }

    private static String utilisation(double rate, double peak) {
        return Double.isNaN(peak) ? String.format(java.util.Locale.ROOT, "%.1f G multiply-adds/s", rate)
                : String.format(java.util.Locale.ROOT, "%.1f G multiply-adds/s, %.1f%% of the peak %.1f", rate, 100 * rate / peak, peak);
    }

    /** What a checkpoint's projection weights are stored as, and how many bytes of tensors it maps. */
    /** Where the weights the kernels read live: decode speed depends on their page size (BENCHMARKS.md, "Huge pages"). */
    static String hostWeights(boolean inMemory) {
        if (!inMemory) {
            return "read in place from the mapped files (4 KiB pages; -D " + FloeEngine.WEIGHTS_IN_MEMORY
                    + "=true copies them into memory, on huge pages where allowed)";
        }
        return WeightArena.hugePagesAvailable() ? "in memory, on 2 MiB huge pages (madvise; used where the kernel's transparent_hugepage allows)"
                : "in memory, on ordinary pages (huge pages need Linux and native access for dev.floe.runtime)";
    }

    /** A checkpoint's weight format: the projections' dtype, and whether its head is FP8 too. */
    record CheckpointFormat(String label, boolean fp8, boolean fp8Head, long bytes) {
        static CheckpointFormat of(Path dir) {
            if (!java.nio.file.Files.isRegularFile(dir.resolve("config.json"))) {
                throw new IllegalArgumentException("--model: " + dir + " is not a model folder (no config.json)");
            }
            try (Checkpoint ck = Checkpoint.open(dir)) {
                String q = ck.names().stream().filter(n -> n.endsWith("self_attn.q_proj.weight")).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("--model: " + dir + " has no self_attn.q_proj.weight tensor"));
                DType t = ck.dtypeOf(q);
                boolean fp8 = isFp8(t);
                boolean fp8Head = ck.names().contains("lm_head.weight") && isFp8(ck.dtypeOf("lm_head.weight"));
                String label = t.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
                return new CheckpointFormat((fp8 ? "fp" + label.substring(1) : label) + (fp8Head ? "+head" : ""), fp8, fp8Head,
                        ck.bytesMapped());
            }
        }

        private static boolean isFp8(DType t) {
            return t == DType.F8_E4M3 || t == DType.F8_E5M2;
        }
    }
}
