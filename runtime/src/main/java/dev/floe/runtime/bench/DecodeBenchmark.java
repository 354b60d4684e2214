package dev.floe.runtime.bench;

import dev.floe.api.ModelConfig;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.generate.Sampler;
import dev.floe.runtime.model.FloeModel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Batch-1 decode speed of a synthetic model against the memory bandwidth measured in the same run: builds the
 * weights in memory, prefills a prompt, decodes greedily, and reports tokens/s, bytes read per token and MBU
 * (model bandwidth utilisation = bytes per token x tokens/s / bandwidth).
 */
public final class DecodeBenchmark {
    /** Decode steps before timing: at least 4, up to this many while the warm-up time lasts. */
    static final int WARM_UP_TOKENS = 64;
    static final long WARM_UP_NANOS = 3_000_000_000L;
    private DecodeBenchmark() {
    }

    /**
     * One measurement.
     *
     * @param bandwidthBefore read bandwidth measured just before decoding, GB/s (NaN if the backend cannot measure)
     * @param bandwidthAfter  the same, just after
     */
    public record Result(String preset, String weights, String backend, String device, int threads, int promptTokens,
                         int decodeTokens, double tokensPerSecond, long bytesPerToken, long weightBytes,
                         double bandwidthBefore, double bandwidthAfter) {
        /** GB/s of weights and KV read while decoding. */
        public double effectiveBandwidth() {
            return tokensPerSecond * bytesPerToken / 1e9;
        }

        /** MBU against the mean of the two bandwidth measurements. */
        public double mbu() {
            return effectiveBandwidth() / ((bandwidthBefore + bandwidthAfter) / 2);
        }
    }

    /** Options of a run. */
    public record Options(String backend, int threads, int promptTokens, int decodeTokens, Map<String, String> properties) {
    }

    /** Builds the model, decodes and measures; {@code progress} sees bytes of weights made. */
    public static Result run(BenchPreset preset, boolean fp8, Options o, LongConsumer progress) {
        ModelConfig c = preset.config();
        SyntheticWeights weights = new SyntheticWeights(c, fp8, progress);
        int blocks = (o.promptTokens() + o.decodeTokens() + WARM_UP_TOKENS + 32) / 16 + 1;
        Map<String, String> props = new java.util.HashMap<>(o.properties());
        props.putIfAbsent("kv.blocks", Integer.toString(blocks));
        ModelOptions options = new ModelOptions(o.backend(), null, null, o.threads(), props);
        try (FloeModel model = FloeEngine.assemble(c, weights, null, Path.of("synthetic:" + preset.name()), options,
                List.of(weights), l -> { })) {
            try (Session s = model.newSession(o.promptTokens() + o.decodeTokens() + WARM_UP_TOKENS + 1)) {
                int[] prompt = new int[o.promptTokens()];
                s.prefill(new int[]{1}); // a throw-away first pass compiles the prefill path
                s.reset();
                for (int i = 0; i < prompt.length; i++) prompt[i] = 3 + (i * 7919) % (c.vocabSize() - 3);
                float[] logits = s.prefillLast(prompt);
                // warm up the JIT (the Vector API is slow until compiled) and page in the weights before timing
                long warmUntil = System.nanoTime() + WARM_UP_NANOS;
                for (int i = 0; i < WARM_UP_TOKENS && (i < 4 || System.nanoTime() < warmUntil); i++) {
                    logits = s.next(Sampler.argmax(logits));
                }
                double before = model.measureBandwidth();
                int startContext = s.position();
                long t0 = System.nanoTime();
                for (int i = 0; i < o.decodeTokens(); i++) logits = s.next(Sampler.argmax(logits));
                long elapsed = System.nanoTime() - t0;
                double after = model.measureBandwidth();
                double meanContext = startContext + o.decodeTokens() / 2.0;
                return new Result(preset.name(), fp8 ? "fp8-e4m3" : "bf16", model.backend(), model.device(), o.threads(),
                        o.promptTokens(), o.decodeTokens(), o.decodeTokens() * 1e9 / elapsed,
                        bytesPerToken(c, fp8, meanContext), weights.bytesMapped(), before, after);
            }
        }
    }

    /** Bytes read to decode one token: every active weight once, one embedding row, and the KV cache so far. */
    public static long bytesPerToken(ModelConfig c, boolean fp8, double context) {
        long h = c.hiddenSize(), d = c.headDim(), i = c.intermediateSize();
        long perLayer = linear(fp8, c.numHeads() * d, h) * 2 + linear(fp8, c.numKvHeads() * d, h) * 2
                + 3 * h * 2                                  // three norms, bf16
                + (long) c.numExperts() * h * 2               // router gate, bf16
                + 3 * linear(fp8, h, h)                       // residual MLP
                + (long) c.topK() * (2 * linear(fp8, i, h) + linear(fp8, h, i));
        long kv = (long) Math.round(context * c.numKvHeads() * d * 2 * Float.BYTES);
        return c.numLayers() * (perLayer + kv) + (long) c.vocabSize() * h * 2 + h * 2 + h * 2;
    }

    private static long linear(boolean fp8, long rows, long cols) {
        return fp8 ? rows * cols + rows * 4 : rows * cols * 2;
    }
}
