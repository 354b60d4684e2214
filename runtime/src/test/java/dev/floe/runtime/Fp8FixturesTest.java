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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FP8 fixtures in each published scale layout (per-tensor; 48x48 blocks as {@code weight_scale_inv}; 32x64 blocks
 * in a compressed-tensors config) reproduce their float64 goldens on cpu-vector, with both expert stores.
 */
class Fp8FixturesTest {
    @ParameterizedTest
    @ValueSource(strings = {"fixtures/tiny-arctic-fp8-tensor", "fixtures/tiny-arctic-fp8-block", "fixtures/tiny-arctic-fp8-ct-block"})
    void reproducesGoldens(String folder) {
        Path dir = GoldenFixturesTest.root().resolve(folder);
        GoldenFixture golden = GoldenFixture.load(dir);
        for (String store : new String[]{"mapped", "memory"}) {
            try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector").withExpertStore(store), l -> { })) {
                List<CheckResult> results = GoldenChecks.run(model, golden, folder, r -> { });
                assertTrue(results.size() >= golden.prompts().size() * 3, "checks ran: " + results.size());
                List<String> failed = results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList();
                assertEquals(List.of(), failed, folder + " with the " + store + " expert store");
            }
        }
    }
}
