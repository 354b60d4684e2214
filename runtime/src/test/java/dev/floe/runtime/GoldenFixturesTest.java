package dev.floe.runtime;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every bundled fixture and the built-in model reproduce their float64 goldens on the cpu-vector backend. */
class GoldenFixturesTest {
    static Path root() {
        return Path.of(System.getProperty("floe.root", "."));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fixtures/tiny-mixtral", "fixtures/tiny-arctic", "fixtures/tiny-arctic-fp8", "models/arctic-tiny-code",
            "fixtures/rope-linear", "fixtures/rope-dynamic", "fixtures/rope-yarn", "fixtures/rope-llama3"})
    void reproducesGoldens(String folder) {
        Path dir = root().resolve(folder);
        GoldenFixture golden = GoldenFixture.load(dir);
        ModelOptions cpu = ModelOptions.DEFAULTS.withBackend("cpu-vector");
        Map<String, ModelOptions> loads = Map.of("the mapped expert store", cpu.withExpertStore("mapped"),
                "the memory expert store", cpu.withExpertStore("memory"),
                "every weight in memory", cpu.withProperties(Map.of(FloeEngine.WEIGHTS_IN_MEMORY, "true")));
        for (var load : loads.entrySet()) {
            try (FloeModel model = FloeEngine.load(dir, load.getValue(), l -> { })) {
                List<CheckResult> results = GoldenChecks.run(model, golden, folder, r -> { });
                assertTrue(results.size() >= golden.prompts().size() * 3, "checks ran: " + results.size());
                List<String> failed = results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList();
                assertEquals(List.of(), failed, folder + " with " + load.getKey());
            }
        }
    }
}
