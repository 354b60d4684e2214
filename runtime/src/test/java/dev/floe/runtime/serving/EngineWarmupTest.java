package dev.floe.runtime.serving;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineWarmupTest {
    @Test
    void runsWholeRoundsAndGivesEveryBlockBack() {
        try (FloeModel model = FloeEngine.load(ServingEngineTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            EngineWarmup.Report r = EngineWarmup.run(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS,
                    Duration.ofMillis(300));
            assertNull(r.skipped(), r.describe());
            assertTrue(r.rounds() >= 1, r.describe());
            assertEquals(4, r.requests());
            assertEquals((long) r.rounds() * r.requests() * 16, r.tokens(), "every request generated its 16 tokens");
            assertTrue(r.took().toMillis() >= 300, r.describe());
            assertEquals(0, model.kvBlocks().usedBlocks(), "the KV pool is empty again");
            assertTrue(r.describe().startsWith("warmed up in "), r.describe());
            assertEquals("warm-up skipped: no time budget",
                    EngineWarmup.run(model, Schedulers.create("static"), ServingConfig.DEFAULTS, Duration.ZERO).describe());
        }
    }

    @Test
    void aPoolTooSmallForItIsReportedNotThrown() {
        try (FloeModel model = FloeEngine.load(ServingEngineTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector")
                .withProperties(Map.of("kv.blocks", "1")), l -> { })) {
            EngineWarmup.Report r = EngineWarmup.run(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS,
                    Duration.ofMillis(100));
            assertTrue(r.skipped() != null && r.skipped().contains("KV blocks"), r.describe());
            assertEquals(0, r.rounds());
        }
    }
}
