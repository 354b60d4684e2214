package dev.floe.runtime.serving;

import dev.floe.api.GenerationRequest;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.SamplingParams;
import dev.floe.api.Scheduler;
import dev.floe.runtime.bench.SyntheticPrompt;
import dev.floe.runtime.model.FloeModel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a small synthetic workload through a throw-away engine before a server takes traffic, so that the JIT has
 * compiled the serving paths (chunked prefill, batched decode, greedy and nucleus sampling) on the model's own
 * weights. On a CPU backend the first requests otherwise run tens of times slower while C2 compiles the kernels,
 * and a warm-up on other data would be partly thrown away (the kernels deoptimise on the real weight segments).
 * The engine, its metrics and its requests are discarded; every KV block returns to the pool.
 */
public final class EngineWarmup {
    /** What a warm-up did: rounds of {@code requests} concurrent requests, tokens generated, time taken. */
    public record Report(int rounds, int requests, long tokens, Duration took, String skipped) {
        /** One line for a log. */
        public String describe() {
            if (skipped != null) return "warm-up skipped: " + skipped;
            return String.format(java.util.Locale.ROOT, "warmed up in %.1f s: %d %s of %d requests, %d tokens",
                    took.toNanos() / 1e9, rounds, rounds == 1 ? "round" : "rounds", requests, tokens);
        }
    }

    private EngineWarmup() {
    }

    /**
     * Repeats rounds of concurrent short requests until {@code budget} has passed (at least one round unless the
     * budget is zero). A model whose context or KV pool cannot hold even these requests is reported as skipped.
     */
    public static Report run(FloeModel model, Scheduler scheduler, ServingConfig config, Duration budget) {
        if (budget.isZero() || budget.isNegative()) return new Report(0, 0, 0, Duration.ZERO, "no time budget");
        ModelConfig c = model.config();
        int requests = Math.min(4, Math.min(config.maxBatch(), config.maxQueue()));
        int promptTokens = Math.max(1, Math.min(24, c.maxPositions() / 4));
        int maxTokens = Math.max(1, Math.min(16, c.maxPositions() / 4));
        long start = System.nanoTime(), deadline = start + budget.toNanos();
        int rounds = 0;
        long tokens = 0;
        try (ServingEngine engine = new ServingEngine(model, scheduler, config)) {
            do {
                List<RequestHandle> handles = new ArrayList<>();
                for (int q = 0; q < requests; q++) {
                    int[] prompt = SyntheticPrompt.ids(c.vocabSize(), promptTokens, rounds * requests + q);
                    GenerationRequest r = GenerationRequest.ofIds(prompt, maxTokens)
                            .withIgnoreEos(true)
                            .withSampling(q % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.8, 40, 0.95, q));
                    handles.add(engine.submit(r, token -> { }));
                }
                for (RequestHandle h : handles) tokens += h.result().join().tokens().length;
                rounds++;
            } while (System.nanoTime() < deadline);
        } catch (InvalidRequestException e) {
            return new Report(rounds, requests, tokens, Duration.ofNanos(System.nanoTime() - start), e.getMessage());
        }
        return new Report(rounds, requests, tokens, Duration.ofNanos(System.nanoTime() - start), null);
    }
}
