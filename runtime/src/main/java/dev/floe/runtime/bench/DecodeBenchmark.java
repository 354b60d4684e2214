package dev.floe.runtime.bench;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.generate.Sampler;
import dev.floe.runtime.kv.SequenceKv;
import dev.floe.runtime.model.ForwardBatch;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.PassCounters;
import dev.floe.runtime.model.ExpertCacheStats;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Batch-1 decode speed of a synthetic model against the memory bandwidth measured in the same run: builds the
 * weights in memory, prefills a prompt, decodes greedily, and reports tokens/s, bytes read per token and MBU
 * (model bandwidth utilisation = bytes per token x tokens/s / bandwidth). Then, with the same weights, the decode
 * throughput of larger batches: B sequences stepped together, one token each per forward pass, as a continuous
 * batching server runs them; and prompt processing (whole prompts of N tokens prefilled in a fresh session, as
 * llama-bench's {@code ppN}), with the multiply-adds of each pass against the multiply-add rate measured in the run.
 */
public final class DecodeBenchmark {
    /** Timed repetitions of each prompt length; the median is reported. */
    public static final int PROMPT_REPEATS = 3;
    /** Decode steps before timing: at least 4, up to this many while the warm-up time lasts. */
    static final int WARM_UP_TOKENS = 64;
    static final long WARM_UP_NANOS = 3_000_000_000L;
    /** Decode steps run eagerly after timing, to count each MoE layer's dispatches apart. */
    static final int EAGER_STEPS = 4;
    private DecodeBenchmark() {
    }

    /**
     * One measurement.
     *
     * @param bandwidthBefore read bandwidth measured just before decoding, GB/s (NaN if the backend cannot measure)
     * @param bandwidthAfter  the same, just after
     * @param multiplyAddRate the backend's multiply-add rate measured just before and after the batches and prompts,
     *                        the higher of the two, 10^9 per second (NaN if it cannot measure, or nothing was timed)
     */
    public record Result(String preset, String weights, String backend, String device, int threads, int promptTokens,
                         int decodeTokens, double tokensPerSecond, long bytesPerToken, long weightBytes,
                         double bandwidthBefore, double bandwidthAfter, List<BatchResult> batches, Traffic traffic,
                         ExpertCacheStats experts, double multiplyAddRate, List<PromptResult> prompts) {
        /** GB/s of weights and KV read while decoding. */
        public double effectiveBandwidth() {
            return tokensPerSecond * bytesPerToken / 1e9;
        }

        /** MBU against the mean of the two bandwidth measurements. */
        public double mbu() {
            return effectiveBandwidth() / ((bandwidthBefore + bandwidthAfter) / 2);
        }
    }

    /**
     * What one batch-1 decode token asked of the backend, averaged over the timed tokens.
     *
     * @param syncsPerToken       host/backend synchronisations (waits for the backend)
     * @param dispatchesPerToken  kernel launches or pool jobs ({@code counted}: by the backend itself; else kernel calls)
     * @param bytesPerToken       bytes copied between host and backend
     * @param dispatchesPerMoe    dispatches per MoE layer, when measured apart (NaN otherwise)
     */
    public record Traffic(double syncsPerToken, double dispatchesPerToken, double bytesPerToken, double dispatchesPerMoe,
                          boolean counted) {
        static Traffic of(PassCounters c, int tokens, double dispatchesPerMoe) {
            return new Traffic((double) c.syncs() / tokens, (double) c.dispatches() / tokens, (double) c.bytesCopied() / tokens,
                    dispatchesPerMoe, c.dispatchesCounted());
        }
    }

    /**
     * Decode throughput of {@code batch} sequences stepped together.
     *
     * @param stepMillis   mean time of one forward pass (one token for each sequence)
     * @param multiplyAdds multiply-adds of one pass (matmuls and attention)
     */
    public record BatchResult(int batch, int steps, double tokensPerSecond, double stepMillis, double multiplyAdds) {
        public BatchResult(int batch, int steps, double tokensPerSecond, double stepMillis) {
            this(batch, steps, tokensPerSecond, stepMillis, Double.NaN);
        }

        /** Multiply-adds per second of the passes, 10^9 per second. */
        public double multiplyAddRate() {
            return multiplyAdds / stepMillis / 1e6;
        }
    }

    /**
     * Prompt processing: a prompt of {@code tokens} tokens prefilled in a fresh session (passes of at most
     * {@link FloeModel#MAX_ROWS} rows), the median of {@link #PROMPT_REPEATS} timed runs after an untimed one.
     *
     * @param multiplyAdds multiply-adds of the whole prompt (matmuls, attention, the last row's logits)
     */
    public record PromptResult(int tokens, double seconds, double tokensPerSecond, double multiplyAdds) {
        /** Multiply-adds per second, 10^9 per second. */
        public double multiplyAddRate() {
            return multiplyAdds / seconds / 1e9;
        }
    }

    /** Options of a run; {@code batches} lists the batch sizes above 1 to time after the batch-1 measurement. */
    public record Options(String backend, int threads, int promptTokens, int decodeTokens, Map<String, String> properties,
                          List<Integer> batches, List<Integer> prompts) {
        public Options {
            batches = List.copyOf(batches);
            prompts = List.copyOf(prompts);
            for (int p : prompts) {
                if (p < 1) throw new IllegalArgumentException("prompt lengths to time must be positive, got " + p);
            }
            for (int b : batches) {
                if (b < 2 || b > FloeModel.MAX_ROWS) {
                    throw new IllegalArgumentException("batch sizes beyond batch 1 must be in [2, " + FloeModel.MAX_ROWS + "], got " + b);
                }
            }
            if (!batches.isEmpty() && promptTokens > FloeModel.MAX_ROWS) {
                throw new IllegalArgumentException("prompt of " + promptTokens + " tokens: batched decoding prefills whole prompts, at most "
                        + FloeModel.MAX_ROWS);
            }
        }

        public Options(String backend, int threads, int promptTokens, int decodeTokens, Map<String, String> properties,
                       List<Integer> batches) {
            this(backend, threads, promptTokens, decodeTokens, properties, batches, List.of());
        }

        public Options(String backend, int threads, int promptTokens, int decodeTokens, Map<String, String> properties) {
            this(backend, threads, promptTokens, decodeTokens, properties, List.of(), List.of());
        }
    }

    /** Builds the model, decodes and measures; {@code progress} sees bytes of weights made. */
    public static Result run(BenchPreset preset, WeightFormat format, Options o, LongConsumer progress) {
        ModelConfig c = preset.config();
        checkHostMemory(preset.name(), format.fp8(), c.parameterCount() * (format.fp8() ? 1 : 2), availableHostMemory());
        SyntheticWeights weights = new SyntheticWeights(c, format, progress);
        try (FloeModel model = FloeEngine.assemble(c, weights, null, Path.of("synthetic:" + preset.name()), modelOptions(o),
                List.of(weights), l -> { })) {
            return measure(model, preset.name(), format.label(), format.fp8(), format.fp8Head(), weights.bytesMapped(), o);
        }
    }

    /**
     * The same measurements on a real checkpoint: {@code weights} names its format (e.g. from the projections' dtype),
     * {@code fp8} and {@code fp8Head} say whether bytes per token count one byte and a row scale per weight element
     * and row in the layers and in the head.
     */
    public static Result run(Path modelDir, String weights, boolean fp8, boolean fp8Head, long weightBytes, Options o) {
        try (FloeModel model = FloeEngine.load(modelDir, modelOptions(o), l -> { })) {
            return measure(model, modelDir.getFileName().toString(), weights, fp8, fp8Head, weightBytes, o);
        }
    }

    /**
     * Refuses to build weights that cannot fit the host's memory (they would page or draw the OOM killer instead of
     * failing). {@code available} below 0 means unknown: no check.
     */
    static void checkHostMemory(String preset, boolean fp8, long need, long available) {
        if (available >= 0 && need > available) {
            throw new InvalidRequestException(String.format(java.util.Locale.ROOT,
                    "preset %s needs at least %.1f GB of host memory for its %s weights; %.1f GB is available (try a smaller preset)",
                    preset, need / 1e9, fp8 ? "FP8" : "BF16", available / 1e9));
        }
    }

    /** MemAvailable of /proc/meminfo in bytes, or -1 where there is none. */
    static long availableHostMemory() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or unreadable: no check
        }
        return -1;
    }

    /** KV blocks for the prompt, the warm-up and the timed steps of the largest batch. */
    private static ModelOptions modelOptions(Options o) {
        int perSequence = o.promptTokens() + o.decodeTokens() + WARM_UP_TOKENS + 32;
        int blocks = Math.max((perSequence / 16 + 1) * Math.max(1, o.batches().stream().mapToInt(Integer::intValue).max().orElse(1)),
                o.prompts().stream().mapToInt(p -> p / 16 + 2).max().orElse(0));
        Map<String, String> props = new java.util.HashMap<>(o.properties());
        props.putIfAbsent("kv.blocks", Integer.toString(blocks));
        return new ModelOptions(o.backend(), null, null, o.threads(), props);
    }

    private static Result measure(FloeModel model, String name, String weightsLabel, boolean fp8, boolean fp8Head, long weightBytes,
                                  Options o) {
        ModelConfig c = model.config();
        // + the eager steps that count MoE dispatches apart, + one for the last sampled token
        int capacity = o.promptTokens() + o.decodeTokens() + WARM_UP_TOKENS + EAGER_STEPS + 1;
        if (capacity > c.maxPositions()) {
            throw new IllegalArgumentException(o.promptTokens() + " prompt tokens, " + o.decodeTokens() + " timed and up to "
                    + (WARM_UP_TOKENS + EAGER_STEPS) + " warm-up and counting steps exceed the context of " + c.maxPositions() + " tokens");
        }
        try (Session s = model.newSession(capacity)) {
            s.prefill(new int[]{1}); // a throw-away first pass compiles the prefill path
            s.reset();
            float[] logits = s.prefillLast(SyntheticPrompt.ids(c.vocabSize(), o.promptTokens(), 0));
            // warm up the JIT (the Vector API is slow until compiled) and page in the weights before timing
            float[][] last = {logits};
            warmUp(() -> last[0] = s.next(Sampler.argmax(last[0])));
            logits = last[0];
            double before = model.measureBandwidth();
            int startContext = s.position();
            PassCounters counted = model.counters();
            ExpertCacheStats expertsBefore = model.expertCache();
            long t0 = System.nanoTime();
            for (int i = 0; i < o.decodeTokens(); i++) logits = s.next(Sampler.argmax(logits));
            long elapsed = System.nanoTime() - t0;
            PassCounters timed = model.counters().since(counted);
            ExpertCacheStats experts = model.expertCache().since(expertsBefore);
            // a compiled plan runs the MoE layers inside the backend: a few eager steps (an observer that wants
            // nothing turns plans off) count the dispatches of each MoE layer apart
            s.observer(new dev.floe.api.ForwardObserver() {
                @Override
                public boolean wantsRouting() {
                    return false;
                }
            });
            PassCounters eagerStart = model.counters();
            for (int i = 0; i < EAGER_STEPS; i++) logits = s.next(Sampler.argmax(logits));
            PassCounters eager = model.counters().since(eagerStart);
            s.observer(null);
            double perMoe = eager.moeLayers() == 0 ? Double.NaN : (double) eager.moeDispatches() / eager.moeLayers();
            Traffic traffic = Traffic.of(timed, o.decodeTokens(), perMoe);
            double after = model.measureBandwidth();
            double meanContext = startContext + o.decodeTokens() / 2.0;
            double tokensPerSecond = o.decodeTokens() * 1e9 / elapsed;
            s.reset();
            boolean passes = !o.batches().isEmpty() || !o.prompts().isEmpty();
            // the rate before and after the passes, the higher one: on a shared machine each can land in a busy moment
            double rate = passes ? model.measureMultiplyAddRate() : Double.NaN;
            List<BatchResult> batched = new java.util.ArrayList<>();
            for (int b : o.batches()) batched.add(batched(model, b, o));
            List<PromptResult> prompts = new java.util.ArrayList<>();
            // a prompt must leave one position of the model's context free: longer ones are left out of the result
            for (int p : o.prompts()) if (p < c.maxPositions()) prompts.add(prompt(model, p));
            if (passes) rate = Math.max(rate, model.measureMultiplyAddRate());
            return new Result(name, weightsLabel, model.backend(), model.device(), o.threads(), o.promptTokens(),
                    o.decodeTokens(), tokensPerSecond, bytesPerToken(c, fp8, fp8Head, meanContext), weightBytes, before, after, batched,
                    traffic, experts, rate, prompts);
        }
    }

    /** Runs {@code step} at least 4 times, then until {@link #WARM_UP_TOKENS} steps or {@link #WARM_UP_NANOS} have passed. */
    private static void warmUp(Runnable step) {
        long until = System.nanoTime() + WARM_UP_NANOS;
        for (int i = 0; i < WARM_UP_TOKENS && (i < 4 || System.nanoTime() < until); i++) step.run();
    }

    /** Prefills {@code batch} prompts, then times {@code decodeTokens} passes of one greedy token per sequence. */
    static BatchResult batched(FloeModel model, int batch, Options o) {
        int vocab = model.config().vocabSize();
        SequenceKv[] kv = new SequenceKv[batch];
        try {
            int[][] tables = new int[batch][];
            for (int q = 0; q < batch; q++) {
                kv[q] = model.newSequenceKv();
                kv[q].ensureCapacity(o.promptTokens() + WARM_UP_TOKENS + o.decodeTokens());
                tables[q] = kv[q].table();
            }
            // prefill: whole prompts, as many sequences per pass as the pass's row limit allows
            int[] next = new int[batch];
            int per = FloeModel.MAX_ROWS / o.promptTokens();
            for (int first = 0; first < batch; first += per) {
                int n = Math.min(per, batch - first);
                int rows = n * o.promptTokens();
                int[] tokens = new int[rows], positions = new int[rows], sequence = new int[rows], last = new int[n];
                for (int k = 0; k < n; k++) {
                    System.arraycopy(SyntheticPrompt.ids(vocab, o.promptTokens(), first + k), 0, tokens, k * o.promptTokens(), o.promptTokens());
                }
                for (int r = 0; r < rows; r++) {
                    positions[r] = r % o.promptTokens();
                    sequence[r] = first + r / o.promptTokens();
                }
                for (int k = 0; k < n; k++) last[k] = (k + 1) * o.promptTokens() - 1;
                float[][] logits = model.forward(new ForwardBatch(tokens, positions, sequence, tables, last), null);
                for (int k = 0; k < n; k++) next[first + k] = Sampler.argmax(logits[k]);
            }
            int[] sequence = new int[batch], rowsOut = new int[batch], positions = new int[batch];
            for (int q = 0; q < batch; q++) sequence[q] = rowsOut[q] = q;
            java.util.Arrays.fill(positions, o.promptTokens());
            Runnable step = () -> {
                float[][] logits = model.forward(new ForwardBatch(next, positions, sequence, tables, rowsOut), null);
                for (int q = 0; q < batch; q++) {
                    next[q] = Sampler.argmax(logits[q]);
                    positions[q]++;
                }
            };
            // the batched kernels (several rows per weight) are other code than batch 1's: warm them up too
            warmUp(step);
            long t0 = System.nanoTime();
            for (int i = 0; i < o.decodeTokens(); i++) step.run();
            double seconds = (System.nanoTime() - t0) / 1e9;
            double context = o.promptTokens() + WARM_UP_TOKENS / 2.0 + o.decodeTokens() / 2.0;
            return new BatchResult(batch, o.decodeTokens(), (double) batch * o.decodeTokens() / seconds,
                    seconds * 1e3 / o.decodeTokens(), batch * (multiplyAddsPerToken(model.config(), context) + headMultiplyAdds(model.config())));
        } finally {
            for (SequenceKv k : kv) if (k != null) k.close();
        }
    }

    /** Prefills a prompt of {@code tokens} tokens in a fresh session: once untimed, then the median of the timed runs. */
    static PromptResult prompt(FloeModel model, int tokens) {
        ModelConfig c = model.config();
        int[] ids = SyntheticPrompt.ids(c.vocabSize(), tokens, 7);
        double[] seconds = new double[PROMPT_REPEATS];
        try (Session s = model.newSession(tokens + 1)) {
            for (int i = -1; i < PROMPT_REPEATS; i++) {
                s.reset();
                long t0 = System.nanoTime();
                s.prefillLast(ids);
                if (i >= 0) seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        java.util.Arrays.sort(seconds);
        double median = seconds[PROMPT_REPEATS / 2];
        return new PromptResult(tokens, median, tokens / median, promptMultiplyAdds(c, tokens));
    }

    /**
     * Multiply-adds of prefilling {@code tokens} tokens: every token through the layers (attention at its own
     * position), and the logits of the last one.
     */
    public static double promptMultiplyAdds(ModelConfig c, int tokens) {
        double total = headMultiplyAdds(c);
        for (int p = 0; p < tokens; p++) total += multiplyAddsPerToken(c, p + 1);
        return total;
    }

    /**
     * Multiply-adds of one token through the layers, attending to {@code context} positions: the projections, the
     * router, the k routed experts, the residual or dense MLP, and the two products of attention ({@code q k} and
     * {@code p v}); not the logits ({@link #headMultiplyAdds}).
     */
    public static double multiplyAddsPerToken(ModelConfig c, double context) {
        double h = c.hiddenSize(), d = c.headDim(), i = c.intermediateSize();
        double total = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            total += 2 * c.numHeads() * d * h + 2 * c.numKvHeads() * d * h + 2 * context * c.numHeads() * d;
            if (c.hasResidualMlp(l)) total += 3 * h * h;
            total += c.isMoeLayer(l) ? c.numExperts() * h + c.topK() * 3 * i * h : 3 * i * h;
        }
        return total;
    }

    /** Multiply-adds of one row of logits. */
    public static double headMultiplyAdds(ModelConfig c) {
        return (double) c.vocabSize() * c.hiddenSize();
    }

    /**
     * Bytes read to decode one token: every active weight once (attention, the residual MLP where the layer has one,
     * the router and k experts on MoE layers, the MLP on dense layers), norms, one embedding row, the head, and the KV
     * cache so far.
     */
    public static long bytesPerToken(ModelConfig c, boolean fp8, double context) {
        return bytesPerToken(c, fp8, false, context);
    }

    /** The same with the head's format given apart ({@code fp8Head}: FP8 with a scale per row, else BF16). */
    public static long bytesPerToken(ModelConfig c, boolean fp8, boolean fp8Head, double context) {
        long h = c.hiddenSize(), d = c.headDim(), i = c.intermediateSize();
        long kv = Math.round(context * c.numKvHeads() * d * 2 * Float.BYTES);
        long total = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            total += linear(fp8, c.numHeads() * d, h) * 2 + linear(fp8, c.numKvHeads() * d, h) * 2 + 2 * h * 2 + kv;
            if (c.hasResidualMlp(l)) total += 3 * linear(fp8, h, h) + h * 2;
            if (c.isMoeLayer(l)) total += (long) c.numExperts() * h * 2 + (long) c.topK() * (2 * linear(fp8, i, h) + linear(fp8, h, i));
            else total += 2 * linear(fp8, i, h) + linear(fp8, h, i);
        }
        return total + linear(fp8Head, c.vocabSize(), h) + h * 2 + h * 2;
    }

    private static long linear(boolean fp8, long rows, long cols) {
        return fp8 ? rows * cols + rows * 4 : rows * cols * 2;
    }
}
