package dev.floe.tck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.spi.Capability;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TckRunnerTest {
    @Test
    void anAbsentBackendSkipsEveryCheckWithTheReason() {
        TckReport report = new Tck().run("no-such-backend", TckOptions.defaults().withOut(null));
        assertEquals(0, report.passed() + report.failed());
        assertEquals(Tck.checks(List.of()).size() + 5 * BundledFixtures.FOLDERS.size(), report.skipped(), "every check, with five per bundled fixture");
        assertTrue(report.checks().stream().allMatch(c -> c.message().contains("no backend named 'no-such-backend'")));
        assertFalse(report.exercisedBackend());
        assertFalse(report.conforms(), "a run that checked nothing claims nothing");
    }

    @Test
    void onlyChecksThatUseTheBackendMakeAClaim() {
        TckOptions routingOnly = TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^routing\\.hash");
        TckReport routing = new Tck().run("cpu-vector", routingOnly);
        assertTrue(routing.passed() > 0 && routing.failed() == 0, routing.summary());
        assertFalse(routing.exercisedBackend() || routing.conforms(), "routers run on the host: " + routing.summary());
        TckReport none = new Tck().run("cpu-vector", routingOnly.withFilter("^no-such-check$"));
        assertFalse(none.conforms(), none.summary());
    }

    @Test
    void checkNamesAreUniqueAndCategorised() {
        List<Check> checks = Tck.checks(List.of(Path.of("a/one"), Path.of("b/two")));
        Set<String> names = new HashSet<>();
        for (Check c : checks) {
            assertTrue(names.add(c.name()), "duplicate check " + c.name());
            assertTrue(c.name().startsWith(c.category() + "."), c.name());
        }
        assertEquals(Set.of("kernel", "spi2", "model", "behaviour", "routing", "group"), checks.stream().map(Check::category).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void theReportPrintsOneLinePerCheckAndWritesJson(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        TckOptions options = TckOptions.defaults().withFilter("^kernel\\.add\\.").withOut(new PrintStream(printed, true));
        TckReport report = new Tck().run("cpu-vector", options);
        assertTrue(report.passed() >= 7 && report.conforms(), report.summary());
        String out = printed.toString();
        assertTrue(out.contains("PASS  kernel    kernel.add.n=1 "), out);
        assertTrue(out.strip().endsWith(report.summary()), out);

        Path file = dir.resolve("r.json");
        report.writeJson(file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals(Tck.VERSION, json.get("tckVersion").asText());
        assertEquals("cpu-vector", json.get("backend").asText());
        assertTrue(json.get("capabilities").toString().contains(Capability.WEIGHTS_F32.id()));
        assertEquals(report.checks().size(), json.get("checks").size());
        JsonNode first = json.get("checks").get(0);
        for (String field : List.of("name", "measured", "tolerance", "outcome", "message")) assertTrue(first.has(field), field);
    }

    @Test
    void theSameSeedGivesTheSameMeasurements() {
        TckOptions options = TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^kernel\\.matmul\\.bf16");
        TckReport a = new Tck().run("cpu-vector", options), b = new Tck().run("cpu-vector", options);
        assertEquals(a.checks().stream().map(CheckReport::measured).toList(), b.checks().stream().map(CheckReport::measured).toList());
        TckReport other = new Tck().run("cpu-vector", options.withSeed(7));
        assertNotEquals(a.checks().stream().map(CheckReport::measured).toList(), other.checks().stream().map(CheckReport::measured).toList());
    }
}
