package dev.floe.cli;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.cli.serve.OpenAiServer;
import dev.floe.cli.serve.ServerOptions;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.EngineWarmup;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingCapacity;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--max-queue", defaultValue = "64", description = "most requests waiting to start; more get HTTP 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--scheduler", paramLabel = "SPEC", defaultValue = Schedulers.DEFAULT,
            description = "static, continuous or splitfuse, with NAME:key=value parameters (default: ${DEFAULT-VALUE})")
    String scheduler;

    @Option(names = "--max-batch", defaultValue = "0",
            description = "most sequences per forward pass (default: sized with the KV pool from the model and memory, at most 16)")
    int maxBatch;

    @Option(names = "--token-budget", defaultValue = "256", description = "most tokens per forward pass, at most 256 (default: ${DEFAULT-VALUE})")
    int tokenBudget;

    @Option(names = "--no-prefix-caching", description = "compute every prompt in full instead of sharing the KV blocks of common prefixes")
    boolean noPrefixCaching;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
            description = "run short synthetic requests this long before listening, so that the first clients do not wait"
                    + " for the JIT (0: none; default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "on SIGTERM or SIGINT, let running requests finish this long before ending them (default: ${DEFAULT-VALUE})")
    double drainTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "most open connections (default: 1024, less when the descriptor limit needs it)")
    int maxConnections;

    @Option(names = "--header-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "time a client has to send a request's headers (default: ${DEFAULT-VALUE})")
    double headerTimeout;

    @Option(names = "--body-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "time a client has to send a request's body (default: ${DEFAULT-VALUE})")
    double bodyTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "a connection silent this long is closed (default: ${DEFAULT-VALUE})")
    double idleTimeout;

    @Option(names = "--max-header-bytes", paramLabel = "N", defaultValue = "16384",
            description = "largest request line and headers; larger get HTTP 431 (default: ${DEFAULT-VALUE})")
    int maxHeaderBytes;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN", split = ",",
            description = "allow browsers from this origin (repeatable, or * for any); default: no CORS headers")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--access-log", paramLabel = "FILE", description = "write one line per request to FILE ('-': standard output)")
    String accessLog;

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv("FLOE_API_KEY");
        if (!(warmup >= 0) || warmup > 3600) {
            throw new InvalidRequestException("--warmup: " + warmup + " is not a number of seconds in [0, 3600]");
        }
        Duration drain = seconds("--drain-timeout", drainTimeout, true);
        ServerOptions options = ServerOptions.DEFAULTS
                .withTimeouts(seconds("--header-timeout", headerTimeout, false), seconds("--body-timeout", bodyTimeout, false),
                        seconds("--idle-timeout", idleTimeout, false))
                .withMaxConnections(maxConnections).withMaxHeaderBytes(maxHeaderBytes).withCors(corsOrigins);
        ServingCapacity capacity = capacity();
        model.properties.putIfAbsent("kv.blocks", Integer.toString(capacity.kvBlocks()));
        ServingConfig config = new ServingConfig(maxQueue, capacity.maxBatch(), tokenBudget).withPrefixCaching(!noPrefixCaching);
        // the signal handlers go in first: a SIGTERM while loading still ends the process with status 0
        CountDownLatch stop = new CountDownLatch(1);
        ShutdownSignals.onTerminate(stop::countDown);
        try (PrintStream log = accessLog(); FloeModel m = model.load();
             ServingEngine engine = warmedUp(m, config);
             OpenAiServer server = new OpenAiServer(engine, model.modelDir().getFileName().toString(), host, port, key,
                     options.withAccessLog(log))) {
            String sinks = m.sinkWindow() == null ? ""
                    : ", attention sink " + m.sinkWindow().sinkTokens() + " + window " + m.sinkWindow().windowTokens();
            System.out.printf("floe serve: %s%n", capacity.describe());
            System.out.printf("floe serve: %s on %s, scheduler %s%s, at most %d connections, listening on http://%s:%d%s%n",
                    server.modelName(), m.backend(), engine.scheduler().name(), sinks, server.maxConnections(), host,
                    server.port(), key == null ? "" : " (API key required)");
            System.out.flush();
            stop.await();
            System.out.printf("floe serve: draining (up to %.1f s)...%n", drain.toMillis() / 1e3);
            System.out.flush();
            int ended = server.drain(drain);
            System.out.printf("floe serve: stopped%s%n", ended == 0 ? "" : "; " + ended + " unfinished requests were ended");
            System.out.flush();
        }
        return 0;
    }

    /** The KV pool and batch limit, sized together unless both are given ({@code -D kv.blocks}, {@code --max-batch}). */
    private ServingCapacity capacity() {
        Path dir = model.modelDir();
        ModelConfig c = ConfigReader.read(dir);
        int blockSize = intOption("kv.block-size", 16);
        int sequence = c.maxPositions();
        if (model.properties.containsKey("attention.window")) {
            sequence = Math.min(sequence, intOption("attention.window", 1) + intOption("attention.sink", 4) + blockSize);
        }
        return ServingCapacity.plan(c, blockSize, sequence, maxBatch, intOption("kv.blocks", 0), ServingCapacity.defaultMemoryBudget());
    }

    private int intOption(String name, int fallback) {
        String v = model.properties.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("option " + name + ": '" + v + "' is not an integer");
        }
    }

    private static Duration seconds(String option, double value, boolean zeroAllowed) {
        if (!(value >= 0) || value > 86_400 || (!zeroAllowed && value == 0)) {
            throw new InvalidRequestException(option + ": " + value + " is not a number of seconds in " + (zeroAllowed ? "[0" : "(0") + ", 86400]");
        }
        return Duration.ofNanos((long) (value * 1e9));
    }

    private PrintStream accessLog() throws IOException {
        if (accessLog == null) return null;
        if (accessLog.equals("-")) return new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8) {
            @Override
            public void close() {
                flush(); // standard output stays open
            }
        };
        try {
            return new PrintStream(new FileOutputStream(accessLog, true), true, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidRequestException("--access-log: cannot open " + accessLog + " for appending: " + e.getMessage());
        }
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
