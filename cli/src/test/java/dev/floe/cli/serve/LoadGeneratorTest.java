package dev.floe.cli.serve;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load generator behind {@code floe bench-serve}: every token counted and timed, over HTTP and in-process. */
class LoadGeneratorTest {
    static final List<LoadGenerator.Job> JOBS = List.of(new LoadGenerator.Job("def add(a, b):", 5),
            new LoadGenerator.Job("import os", 3), new LoadGenerator.Job("class Stack:", 7), new LoadGenerator.Job("for i in", 1));
    static final int TOKENS = 5 + 3 + 7 + 1;
    static FloeModel model;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(OpenAiServerTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void inProcessCountsAndTimesEveryToken() throws Exception {
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS)) {
            assertComplete(LoadGenerator.runInProcess(engine, JOBS, 2));
        }
    }

    @Test
    void overHttpCountsAndTimesEveryToken() throws Exception {
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create("static"), ServingConfig.DEFAULTS);
             OpenAiServer server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null)) {
            assertComplete(LoadGenerator.run("http://127.0.0.1:" + server.port(), "arctic-tiny-code", JOBS, 2));
        }
    }

    private static void assertComplete(LoadGenerator.Report r) {
        assertEquals(0, r.failed());
        assertEquals(TOKENS, r.tokens(), "max_tokens are honoured exactly (the generator ignores EOS)");
        assertEquals(JOBS.size(), r.ttftMs().length, "one time to first token per request");
        assertEquals(TOKENS - JOBS.size(), r.itlMs().length, "one inter-token gap per token after the first");
        for (int i = 1; i < r.itlMs().length; i++) assertTrue(r.itlMs()[i - 1] <= r.itlMs()[i], "latencies are sorted");
        assertTrue(r.tokensPerSecond() > 0);
    }
}
