package dev.floe.tck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kit without a Floe checkout: fixtures from its own jar, and a check that cannot run is skipped, never absent. */
class StandaloneTckTest {
    static final Path CHECKOUT = Path.of(System.getProperty("floe.root", "..")).toAbsolutePath().normalize();

    @Test
    void theKitCarriesTheFixturesOfTheCheckout() throws Exception {
        Path bundled = BundledFixtures.root();
        for (String dir : BundledFixtures.FOLDERS) {
            for (String file : List.of("config.json", "golden.safetensors")) {
                assertArrayEquals(Files.readAllBytes(CHECKOUT.resolve(dir).resolve(file)), Files.readAllBytes(bundled.resolve(dir).resolve(file)),
                        dir + "/" + file);
            }
        }
        assertTrue(Files.size(bundled.resolve("fixtures/fp8-tables.safetensors")) > 0);
    }

    @Test
    void modelChecksRunOnTheBundledFixtures() {
        TckReport r = new Tck().run("cpu-vector", TckOptions.defaults().withOut(null).withRoot(BundledFixtures.root())
                .withFilter("^model\\.golden\\.tiny-mixtral$|^kernel\\.formats\\.fp8-e4m3\\.decode-table$"));
        assertEquals(2, r.passed(), r.checks().toString());
        assertTrue(r.checks().stream().allMatch(c -> c.backend() == c.name().startsWith("model.")), r.checks().toString());
        assertEquals("on the backend: 1 passed, 0 failed, 0 skipped; 1 checks of Floe's own code", r.backendSummary());
    }

    @Test
    void fixturesThatCannotBeFoundAreSkippedWithTheReason(@TempDir Path empty) {
        TckReport r = new Tck().run("cpu-vector", TckOptions.defaults().withOut(null).withRoot(empty).withFilter("^model\\."));
        assertEquals(2 * BundledFixtures.FOLDERS.size(), r.skipped(), r.summary());
        assertTrue(r.checks().stream().allMatch(c -> c.message().startsWith("fixture folder ") && c.message().contains(" is missing under ")),
                r.checks().toString());
    }
}
