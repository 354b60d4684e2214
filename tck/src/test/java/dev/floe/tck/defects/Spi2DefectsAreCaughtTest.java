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

/** Each planted SPI 2 defect is rejected by a named spi2 check; the faithful SPI 2 wrapper passes them all. */
class Spi2DefectsAreCaughtTest {
    record Defect(String name, Function<Backend, Backend> plant, String caughtBy) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Defect> defects() {
        return Stream.of(
                new Defect("fused MoE without renormalisation", Spi2Defects.MoeWithoutRenormalisation::new,
                        "spi2.moe.softmax-topk.renormalised.bf16"),
                new Defect("device routing ties to the higher index", Spi2Defects.TiesToHigherIndex::new,
                        "spi2.moe.device-routing.softmax-topk.raw"),
                new Defect("sigmoid device routing ties to the higher index", Spi2Defects.TiesToHigherIndex::new,
                        "spi2.moe.device-routing.sigmoid-topk.bias"),
                new Defect("replayed plan drops an operation", Spi2Defects.ReplayDropsAnOp::new, "spi2.plan.replay"),
                new Defect("step metadata kept from the first pass", Spi2Defects.StaleStep::new, "spi2.metadata.reuse"));
    }

    private static TckOptions spi2On(Function<Backend, Backend> plant) {
        return TckOptions.defaults().withOut(null).withBundledFixtures(false).withFilter("^spi2\\.")
                .withBackendFactory(o -> plant.apply(Backends.open("cpu-vector", o)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void eachDefectIsRejectedByANamedCheck(Defect defect) {
        TckReport report = new Tck().run("cpu-vector", spi2On(defect.plant()));
        CheckReport named = report.check(defect.caughtBy());
        assertEquals(Outcome.FAILED, named.outcome(), named.line());
    }

    @Test
    void theFaithfulSpi2WrapperPassesEveryCheckWithoutSkipping() {
        TckReport report = new Tck().run("cpu-vector", spi2On(Spi2Defects.Forwarding::new));
        List<String> notPassed = report.checks().stream().filter(c -> c.outcome() != Outcome.PASSED).map(CheckReport::line).toList();
        assertEquals(List.of(), notPassed);
        assertTrue(report.passed() >= 20, report.summary());
    }
}
