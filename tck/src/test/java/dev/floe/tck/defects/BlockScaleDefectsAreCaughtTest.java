package dev.floe.tck.defects;

import dev.floe.runtime.Backends;
import dev.floe.spi.Backend;
import dev.floe.tck.CheckReport;
import dev.floe.tck.Outcome;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Each planted block-scale defect fails a named block check; the faithful wrapper and cpu-vector itself pass them all. */
class BlockScaleDefectsAreCaughtTest {
    record Defect(String name, Function<Backend, Backend> plant, String caughtBy) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Defect> defects() {
        return Stream.of(
                new Defect("grid columns rounded down", BlockScaleDefects.FloorGridColumns::new,
                        "kernel.matmul.fp8-e4m3.block-48x48.3x64->64"),
                new Defect("one scale per block row", BlockScaleDefects.FirstColumnBlockOnly::new,
                        "kernel.matmul.fp8-e4m3.block-32x32.1x64->64"),
                new Defect("weight_scale_inv read as an inverse", BlockScaleDefects.InverseScale::new,
                        "kernel.matmul.fp8-e4m3.block-128x128.4x300->260"));
    }

    private static TckOptions blocksOn(Function<Backend, Backend> plant) {
        return TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^kernel\\.matmul\\..*\\.block-")
                .withBackendFactory(o -> plant.apply(Backends.open("cpu-vector", o)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void eachDefectIsRejectedByANamedCheck(Defect defect) {
        TckReport report = new Tck().run("cpu-vector", blocksOn(defect.plant()));
        CheckReport named = report.check(defect.caughtBy());
        assertEquals(Outcome.FAILED, named.outcome(), named.line());
    }

    @Test
    void theFaithfulWrapperAndCpuVectorPassEveryBlockCheck() {
        for (Function<Backend, Backend> plant : List.<Function<Backend, Backend>>of(BlockScaleDefects.Faithful::new, b -> b)) {
            TckReport report = new Tck().run("cpu-vector", blocksOn(plant));
            List<String> notPassed = report.checks().stream().filter(c -> c.outcome() != Outcome.PASSED).map(CheckReport::line).toList();
            assertEquals(List.of(), notPassed);
            assertTrue(report.passed() >= 12, report.summary());
        }
    }
}
