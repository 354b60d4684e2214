package dev.floe.runtime.parallel;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every fixture passes its golden checks (logits, expert choices, greedy tokens) on in-process cpu-vector ranks in
 * each layout the issue names, as it does on one device.
 */
class ParallelGoldenTest {
    static Path root() {
        return Path.of(System.getProperty("floe.root", "."));
    }

    @ParameterizedTest(name = "{0} tp {1} ep {2}")
    @CsvSource({
            "fixtures/tiny-mixtral, 2, 1", "fixtures/tiny-mixtral, 1, 2", "fixtures/tiny-mixtral, 1, 4", "fixtures/tiny-mixtral, 2, 2",
            "fixtures/tiny-arctic, 2, 1", "fixtures/tiny-arctic, 1, 2", "fixtures/tiny-arctic, 1, 4", "fixtures/tiny-arctic, 2, 2",
            "fixtures/tiny-arctic-fp8, 2, 1", "fixtures/tiny-arctic-fp8, 1, 2", "fixtures/tiny-arctic-fp8, 1, 4", "fixtures/tiny-arctic-fp8, 2, 2",
            "models/arctic-tiny-code, 2, 1", "models/arctic-tiny-code, 2, 2", "models/arctic-tiny-code, 1, 4"})
    void reproducesGoldensOnRanks(String folder, int tp, int ep) {
        Path dir = root().resolve(folder);
        GoldenFixture golden = GoldenFixture.load(dir);
        ModelOptions options = ModelOptions.DEFAULTS.withBackend("cpu-vector").withThreads(2).withParallel(tp, ep);
        try (FloeModel model = FloeEngine.load(dir, options, l -> { })) {
            assertEquals(Math.max(tp, ep), model.ranks());
            List<CheckResult> results = GoldenChecks.run(model, golden, folder, r -> { });
            assertTrue(results.size() >= golden.prompts().size() * 3, "checks ran: " + results.size());
            List<String> failed = results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList();
            assertEquals(List.of(), failed, folder + " on tp " + tp + " x ep " + ep);
        }
    }
}
