package dev.floe.tck.defects;

import dev.floe.runtime.Providers;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Communicator;
import dev.floe.tck.CheckReport;
import dev.floe.tck.Outcome;
import dev.floe.tck.Tck;
import dev.floe.tck.TckOptions;
import dev.floe.tck.TckReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each planted communicator defect is rejected by named group checks; the faithful wrapper passes them all. */
class GroupDefectsAreCaughtTest {
    record Defect(String name, BiFunction<Communicator, Backend, Communicator> plant, List<String> caughtBy) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Defect> defects() {
        return Stream.of(
                new Defect("a missing all-reduce", GroupDefects.MissingAllReduce::new,
                        List.of("group.all-reduce", "group.model.tp2.tiny-mixtral", "group.model.ep2.tiny-mixtral",
                                "group.model.tp2-ep2.tiny-arctic")),
                new Defect("an all-gather at the wrong shard offset", GroupDefects.GatherAtWrongOffset::new,
                        List.of("group.all-gather")),
                new Defect("an all-to-all at the wrong offset", GroupDefects.AllToAllAtWrongOffset::new,
                        List.of("group.all-to-all")));
    }

    private static TckOptions groupsOf(BiFunction<Communicator, Backend, Communicator> plant) {
        BackendProvider cpu = Providers.named(Providers.backends(), "backend", "cpu-vector").provider();
        return TckOptions.defaults().withOut(null).withFilter("^group\\.(all|reduce|broadcast|model\\.[a-z0-9-]+\\.tiny-(mixtral|arctic)$)")
                .withGroupFactory((size, o) -> GroupDefects.wrapping(cpu.openGroup(size, o), plant));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void eachDefectIsRejectedByNamedChecks(Defect defect) {
        TckReport report = new Tck().run("cpu-vector", groupsOf(defect.plant()));
        for (String name : defect.caughtBy()) {
            CheckReport named = report.check(name);
            assertEquals(Outcome.FAILED, named.outcome(), named.line());
        }
    }

    @Test
    void theFaithfulWrapperPassesEveryGroupCheck() {
        TckReport report = new Tck().run("cpu-vector", groupsOf(GroupDefects.Forwarding::new));
        List<String> notPassed = report.checks().stream().filter(c -> c.outcome() != Outcome.PASSED).map(CheckReport::line).toList();
        assertEquals(List.of(), notPassed);
        assertEquals(5 + 3 * 2, report.passed(), report.summary());
    }
}
