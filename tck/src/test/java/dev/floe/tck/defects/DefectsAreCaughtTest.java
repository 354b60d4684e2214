package dev.floe.tck.defects;

import dev.floe.runtime.Backends;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.RouterProvider;
import dev.floe.tck.CheckReport;
import dev.floe.tck.Outcome;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Each planted defect is rejected by a named check; the faithful wrapper passes every check. */
class DefectsAreCaughtTest {
    /** A defect, how to plant it, and a check that must reject it. */
    record Defect(String name, Function<Backend, Backend> plant, String caughtBy) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Defect> defects() {
        return Stream.of(
                new Defect("interleaved RoPE", Defects.InterleavedRope::new, "kernel.rope.heads=3.head-dim=64.theta=10000"),
                new Defect("off-by-one causal mask", Defects.OffByOneMask::new, "kernel.attention.gqa=2.heads=4/2.head-dim=64.block=16.seqs=[5,33]"),
                new Defect("expert outputs not weighted", Defects.UnweightedExperts::new, "kernel.scatter-add-rows.cols=13"),
                new Defect("FP8 without its scale", Defects.Fp8WithoutScale::new, "kernel.matmul.fp8-e4m3.per-row.3x13->7"),
                new Defect("KV written at the wrong position", Defects.KvWrongPosition::new, "kernel.attention.gqa=4.heads=8/2.head-dim=32.block=5.seqs=[1,16,23]"),
                new Defect("block-scale grid columns rounded down", BlockScaleDefects.FloorGridColumns::new,
                        "kernel.matmul.fp8-e4m3.block-48x48.3x64->64"),
                new Defect("one block scale per block row", BlockScaleDefects.FirstColumnBlockOnly::new,
                        "kernel.matmul.fp8-e4m3.block-32x32.1x64->64"),
                new Defect("weight_scale_inv read as an inverse", BlockScaleDefects.InverseScale::new,
                        "kernel.matmul.fp8-e4m3.block-128x128.4x300->260"));
    }

    private static TckOptions kernelsOn(Function<Backend, Backend> plant) {
        return TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^(kernel|behaviour)\\.")
                .withBackendFactory(o -> plant.apply(Backends.open("cpu-vector", o)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void eachDefectIsRejectedByANamedCheck(Defect defect) {
        TckReport report = new Tck().run("cpu-vector", kernelsOn(defect.plant()));
        CheckReport named = report.check(defect.caughtBy());
        assertEquals(Outcome.FAILED, named.outcome(), named.line());
        assertFalse(report.conforms());
    }

    @Test
    void theFaithfulWrapperPassesEveryCheck() {
        TckReport report = new Tck().run("cpu-vector", kernelsOn(ForwardingBackend::new));
        List<String> failed = report.checks().stream().filter(c -> c.outcome() == Outcome.FAILED).map(CheckReport::line).toList();
        assertEquals(List.of(), failed);
        assertTrue(report.passed() > 100, report.summary());
    }

    /** The SPI 1 wrapper above skips the block-scale checks; a faithful block-scale wrapper and cpu-vector pass them. */
    @Test
    void theFaithfulBlockScaleWrapperAndCpuVectorPassEveryBlockCheck() {
        for (Function<Backend, Backend> plant : List.<Function<Backend, Backend>>of(BlockScaleDefects.Faithful::new, b -> b)) {
            TckReport report = new Tck().run("cpu-vector", kernelsOn(plant).withFilter("^kernel\\.matmul\\..*\\.block-"));
            List<String> notPassed = report.checks().stream().filter(c -> c.outcome() != Outcome.PASSED).map(CheckReport::line).toList();
            assertEquals(List.of(), notPassed);
            assertEquals(13, report.passed(), report.summary());
        }
    }

    @Test
    void anUnnormalisedSoftmaxTopKIsRejectedByTheRoutingCheck() {
        List<RouterProvider> routers = ServiceLoader.load(RouterProvider.class).stream().map(ServiceLoader.Provider::get)
                .map(p -> p.name().equals("softmax-topk") ? new UnnormalisedSoftmaxTopK(p) : p).toList();
        TckOptions options = TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^routing\\.").withRouters(routers);
        TckReport report = new Tck().run("cpu-vector", options);
        CheckReport softmax = report.check("routing.softmax-topk");
        assertEquals(Outcome.FAILED, softmax.outcome(), softmax.line());
        assertTrue(report.checks().stream().filter(c -> !c.name().startsWith("routing.softmax-topk"))
                .allMatch(c -> c.outcome() == Outcome.PASSED), "the other routers still pass");
    }
}
