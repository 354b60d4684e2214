package dev.floe.tck.defects;

import dev.floe.runtime.Backends;
import dev.floe.runtime.Providers;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import dev.floe.tck.CheckReport;
import dev.floe.tck.Measurement;
import dev.floe.tck.Outcome;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import dev.floe.tck.behaviour.ContractChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hard-input, contract and concurrency checks each reject a planted defect that every older check passed. */
class HardDefectsAreCaughtTest {
    record Defect(String name, Function<Backend, Backend> plant, String caughtBy, String messagePart) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Defect> defects() {
        return Stream.of(
                new Defect("softmax without max subtraction", NumericDefects.UnstableSoftmax::new,
                        "kernel.attention.large-scores.heads=4/2.head-dim=64.seqs=[37,20]", "worst at (row "),
                new Defect("scratch shared between instances", NumericDefects.SharedScratch::new,
                        "behaviour.concurrency.stress.instances=8.threads=8", "threads got other results"),
                new Defect("fewer capabilities once opened", NumericDefects.FewerCapabilitiesWhenOpened::new,
                        "behaviour.capabilities.provider-equals-opened", "only declared: [weights.bf16]"),
                new Defect("sink keys not rotated", NumericDefects.UnrotatedSinkKeys::new,
                        "kernel.attention.sinks.heads=4/2.head-dim=32.block=8.seqs=[1,19,40]", ", head "),
                new Defect("E4M3 0x7E decoded as NaN", NumericDefects.E4m3MaxAsNan::new,
                        "kernel.embed.fp8-e4m3.every-code", "2 codes wrong: 0x7E=NaN (oracle 448.0), 0xFE=NaN (oracle -448.0)"));
    }

    private static TckOptions on(Function<Backend, Backend> plant, String filter) {
        return TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter(filter)
                .withBackendFactory(o -> plant.apply(Backends.open("cpu-vector", o)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void eachDefectIsRejectedByItsCheck(Defect defect) {
        String filter = "^" + defect.caughtBy().replaceAll("([.\\[\\]/])", "\\\\$1") + "$";
        CheckReport named = new Tck().run("cpu-vector", on(defect.plant(), filter)).check(defect.caughtBy());
        assertEquals(Outcome.FAILED, named.outcome(), named.line());
        assertTrue(named.message().contains(defect.messagePart()), named.line());
    }

    @Test
    void theNewChecksPassOnTheFaithfulWrapper() {
        TckReport r = new Tck().run("cpu-vector", on(ForwardingBackend::new,
                "^kernel\\.(attention\\.(large-scores|full-context|sinks)|rmsnorm\\.extreme|embed\\.fp8-e\\dm\\d\\.every-code)|^behaviour\\.(capabilities|spi-version|concurrency\\.stress)"));
        assertEquals(11, r.checks().size(), r.checks().toString());
        assertEquals(11, r.passed(), r.checks().stream().map(CheckReport::line).toList().toString());
    }

    @Test
    void aProviderOfAnotherSpiVersionFails() {
        BackendProvider real = Providers.named(Providers.backends(), "backend", "cpu-vector").provider();
        assertTrue(ContractChecks.spiVersion(real, null).passed());
        BackendProvider future = new BackendProvider() {
            public String name() { return "future"; }
            public String version() { return "9"; }
            public int rank() { return 0; }
            public int spiVersion() { return BackendProvider.SPI_VERSION + 1; }
            public Probe probe() { return new Probe.Available("nothing"); }
            public Set<Capability> capabilities() { return Set.of(Capability.WEIGHTS_F32); }
            public Backend open(BackendOptions options) { throw new UnsupportedOperationException(); }
        };
        Measurement m = ContractChecks.spiVersion(future, null);
        assertFalse(m.passed());
        assertTrue(m.message().startsWith("the provider states SPI version " + (BackendProvider.SPI_VERSION + 1)), m.message());
    }

    @Test
    void aFailingCheckIsDumpedForReplay(@TempDir Path dir) throws Exception {
        String check = "kernel.attention.large-scores.heads=4/2.head-dim=64.seqs=[37,20]";
        CheckReport r = new Tck().run("cpu-vector", on(NumericDefects.UnstableSoftmax::new, "^kernel\\.attention\\.large-scores").withDump(dir))
                .check(check);
        assertEquals(Outcome.FAILED, r.outcome());
        Path folder = dir.resolve(check.replaceAll("[^A-Za-z0-9._=-]", "_"));
        assertTrue(r.message().contains("[dumped to " + folder + "]"), r.message());
        String meta = Files.readString(folder.resolve("check.json"));
        assertTrue(meta.contains("--seed " + TckOptions.DEFAULT_SEED) && meta.contains("expected-0.npy"), meta);
        byte[] npy = Files.readAllBytes(folder.resolve("output-0.npy"));
        assertEquals((byte) 0x93, npy[0]);
        assertTrue(new String(npy, 0, 128).contains("'descr': '<f4'"));
        // the query, keys and values of both sequences went up, the attention output came down
        assertTrue(Files.exists(folder.resolve("input-0.npy")) && Files.exists(folder.resolve("expected-0.npy")));
    }
}
