package dev.floe.cli;

import dev.floe.api.InvalidRequestException;
import dev.floe.cli.serve.OpenAiServer;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.EngineWarmup;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code floe serve}: an OpenAI-compatible HTTP server with continuous batching. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelArgs model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port to bind, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require 'Authorization: Bearer KEY' (default: env FLOE_API_KEY, else none)")
    String apiKey;

    @Option(names = "--max-queue", defaultValue = "64", description = "most requests waiting; more get HTTP 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--scheduler", paramLabel = "SPEC", defaultValue = Schedulers.DEFAULT,
            description = "static, continuous or splitfuse, with NAME:key=value parameters (default: ${DEFAULT-VALUE})")
    String scheduler;

    @Option(names = "--max-batch", defaultValue = "16", description = "most sequences per forward pass (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--token-budget", defaultValue = "256", description = "most tokens per forward pass, at most 256 (default: ${DEFAULT-VALUE})")
    int tokenBudget;

    @Option(names = "--no-prefix-caching", description = "compute every prompt in full instead of sharing the KV blocks of common prefixes")
    boolean noPrefixCaching;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
            description = "run short synthetic requests this long before listening, so that the first clients do not wait"
                    + " for the JIT (0: none; default: ${DEFAULT-VALUE})")
    double warmup;

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv("FLOE_API_KEY");
        ServingConfig config = new ServingConfig(maxQueue, maxBatch, tokenBudget).withPrefixCaching(!noPrefixCaching);
        if (!(warmup >= 0) || warmup > 3600) {
            throw new InvalidRequestException("--warmup: " + warmup + " is not a number of seconds in [0, 3600]");
        }
        try (FloeModel m = model.load();
             ServingEngine engine = warmedUp(m, config);
             OpenAiServer server = new OpenAiServer(engine, model.modelDir().getFileName().toString(), host, port, key)) {
            String sinks = m.sinkWindow() == null ? ""
                    : ", attention sink " + m.sinkWindow().sinkTokens() + " + window " + m.sinkWindow().windowTokens();
            System.out.printf("floe serve: %s on %s, scheduler %s%s, listening on http://%s:%d%s%n", server.modelName(), m.backend(),
                    engine.scheduler().name(), sinks, host, server.port(), key == null ? "" : " (API key required)");
            System.out.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }

    /** The serving engine, after a warm-up on a throw-away one (which shares the model, not the metrics). */
    private ServingEngine warmedUp(FloeModel m, ServingConfig config) {
        if (warmup > 0) {
            System.err.printf("floe serve: warming up (up to %s s)...%n", warmup);
            EngineWarmup.Report r = EngineWarmup.run(m, Schedulers.create(scheduler), config,
                    Duration.ofNanos((long) (warmup * 1e9)));
            System.err.println("floe serve: " + r.describe());
        }
        return new ServingEngine(m, Schedulers.create(scheduler), config);
    }
}
