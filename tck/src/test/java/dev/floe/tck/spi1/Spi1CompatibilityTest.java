package dev.floe.tck.spi1;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.Backends;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.PassCounters;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Capability;
import dev.floe.spi.SpiVersion;
import dev.floe.tck.CheckReport;
import dev.floe.tck.Outcome;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** SPI 1 code keeps working: a backend written against it, and a router without a routing spec. */
class Spi1CompatibilityTest {
    private static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("fixtures/tiny-arctic"))) p = p.getParent();
        assertNotNull(p, "the Floe checkout with fixtures/");
        return p;
    }

    @Test
    void anSpi1BackendPassesTheKitUnchanged() {
        TckOptions options = TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^(kernel|behaviour|spi2)\\.")
                .withBackendFactory(o -> new Spi1Backend(Backends.open("cpu-vector", o)));
        TckReport report = new Tck().run("cpu-vector", options);
        List<String> failed = report.checks().stream().filter(c -> c.outcome() == Outcome.FAILED).map(CheckReport::line).toList();
        assertEquals(List.of(), failed);
        assertTrue(report.passed() > 100, report.summary());
        // it declares SPI 2 capabilities it cannot honour: the kit skips those checks instead of calling them
        List<CheckReport> spi2 = report.checks().stream().filter(c -> c.name().startsWith("spi2.")).toList();
        assertFalse(spi2.isEmpty());
        assertTrue(spi2.stream().allMatch(c -> c.outcome() == Outcome.SKIPPED), "SPI 2 checks skipped on an SPI 1 backend");
    }

    @Test
    void theRuntimeOnlyUsesSpi2OperationsABackendImplements() {
        try (var b = new Spi1Backend(Backends.open("cpu-vector", BackendOptions.DEFAULTS))) {
            assertTrue(b.capabilities().contains(Capability.FUSED_MOE), "the fixture passes on the delegate's capabilities");
            var effective = SpiVersion.effectiveCapabilities(b);
            for (Capability c : List.of(Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.PLANS, Capability.DISPATCH_COUNTER)) {
                assertFalse(effective.contains(c), c.id());
            }
            assertTrue(effective.contains(Capability.WEIGHTS_BF16));
        }
    }

    @Test
    void aModelOnAnSpi1BackendMatchesItsGoldenFixture() {
        Path dir = root().resolve("fixtures/tiny-arctic");
        var backend = new Spi1Backend(Backends.open("cpu-vector", BackendOptions.DEFAULTS));
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS, l -> { }, backend, null)) {
            List<CheckResult> results = new ArrayList<>();
            GoldenChecks.run(model, GoldenFixture.load(dir), "tiny-arctic", results::add);
            assertFalse(results.isEmpty());
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
            PassCounters c = model.counters();
            assertFalse(c.dispatchesCounted(), "kernel calls are counted for a backend without a dispatch counter");
            assertTrue(c.moeLayers() > 0 && c.syncs() >= c.passes() + c.moeLayers(),
                    "SPI 1 routing brings the logits of every MoE layer to the host: " + c);
        }
    }

    @Test
    void blockScaledWeightsReachAnSpi1BackendDequantisedAndMatchTheGoldens() {
        Path dir = root().resolve("fixtures/tiny-arctic-fp8-block");
        List<dev.floe.api.DType> placed = new ArrayList<>();
        var backend = new Spi1Backend(Backends.open("cpu-vector", BackendOptions.DEFAULTS)) {
            @Override
            public dev.floe.spi.Weight weight(dev.floe.api.TensorData tensor) {
                synchronized (placed) {
                    placed.add(tensor.dtype());
                }
                return super.weight(tensor);
            }
        };
        assertTrue(backend.capabilities().contains(Capability.WEIGHTS_BLOCK_SCALES), "the delegate's capabilities pass through");
        assertFalse(SpiVersion.effectiveCapabilities(backend).contains(Capability.WEIGHTS_BLOCK_SCALES),
                "an SPI 1 class does not implement weight(tensor, layout)");
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS, l -> { }, backend, null)) {
            List<CheckResult> results = new ArrayList<>();
            GoldenChecks.run(model, GoldenFixture.load(dir), "tiny-arctic-fp8-block", results::add);
            assertFalse(results.isEmpty());
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
        }
        synchronized (placed) {
            assertFalse(placed.contains(dev.floe.api.DType.F8_E4M3), "block-scaled FP8 was handed over as F32: " + placed);
            assertTrue(placed.stream().filter(d -> d == dev.floe.api.DType.F32).count() >= 100, placed.toString());
        }
    }

    @Test
    void aRouterWithoutASpecRoutesOnTheHostAndMatchesTheGoldenExperts() {
        Path dir = root().resolve("fixtures/tiny-mixtral");
        HandWrittenSoftmaxRouter router = new HandWrittenSoftmaxRouter();
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS, l -> { }, null, router)) {
            List<CheckResult> results = new ArrayList<>();
            GoldenChecks.run(model, GoldenFixture.load(dir), "tiny-mixtral", results::add);
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
            assertTrue(results.stream().anyMatch(r -> r.name().endsWith(".experts")), "experts were compared");
            assertTrue(router.calls > 0, "the hand-written router ran");
        }
    }
}
