package dev.floe.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.SinkWindow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rope-* fixtures hold goldens that only a model applying its rope_scaling reproduces ({@link GoldenFixturesTest}
 * runs them as they are): without the scaling they fail, and through the SPI 1 decomposition (whose rope kernel
 * takes theta alone) they pass because the runtime rotates by the scaled rows itself.
 */
class RopeScalingFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<CheckResult> check(Path dir, Path goldens) {
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            return GoldenChecks.run(model, GoldenFixture.load(goldens), dir.getFileName().toString(), r -> { });
        }
    }

    private static List<String> failures(List<CheckResult> results) {
        return results.stream().filter(r -> !r.passed()).map(CheckResult::name).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"rope-linear", "rope-dynamic", "rope-yarn", "rope-llama3"})
    void ignoringTheScalingFailsTheGoldens(String name, @TempDir Path tmp) throws IOException {
        Path fixture = GoldenFixturesTest.root().resolve("fixtures").resolve(name).toAbsolutePath();
        try (Stream<Path> files = Files.list(fixture)) {
            for (Path f : files.toList()) {
                String file = f.getFileName().toString();
                if (!file.equals("config.json") && !file.startsWith("golden")) Files.copy(f, tmp.resolve(file)); // follows the links to the weights
            }
        }
        ObjectNode config = (ObjectNode) JSON.readTree(fixture.resolve("config.json").toFile());
        double theta = config.path("rope_parameters").path("rope_theta").asDouble(config.path("rope_theta").asDouble());
        config.remove(List.of("rope_scaling", "rope_parameters"));
        config.put("rope_theta", theta).put("max_position_embeddings", 128); // the same context, no scaling
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);

        List<String> failed = failures(check(tmp, fixture));
        // prompt 2 runs from position 0 to 95, far past the trained 32 positions
        assertTrue(failed.contains(tmp.getFileName() + "/prompt.2.logits"), name + " without its scaling still passes: " + failed);
        assertTrue(failed.contains(tmp.getFileName() + "/prompt.2.decode.logits"), failed.toString());
    }

    @Test
    void theSpi1DecompositionRotatesByTheScaledRows() {
        String old = System.getProperty("floe.spi1-path");
        System.setProperty("floe.spi1-path", "true");
        try {
            for (String name : new String[]{"rope-dynamic", "rope-yarn"}) {
                Path dir = GoldenFixturesTest.root().resolve("fixtures").resolve(name);
                List<CheckResult> results = check(dir, dir);
                assertTrue(results.size() >= 9, name + ": " + results.size() + " checks");
                assertEquals(List.of(), failures(results), name + " through SPI 1 kernels");
            }
        } finally {
            if (old == null) System.clearProperty("floe.spi1-path"); else System.setProperty("floe.spi1-path", old);
        }
    }

    @Test
    void attentionSinkWindowsRefuseAScaledRope() {
        Path dir = GoldenFixturesTest.root().resolve("fixtures/rope-linear");
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> model.newSinkSession(new SinkWindow(4, 64)));
            assertTrue(e.getMessage().contains("rope_scaling linear"), e.getMessage());
        }
    }
}
