package dev.floe.runtime.parallel;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every fixture passes its golden checks (logits, expert choices, greedy tokens) on in-process cpu-vector ranks in
 * each layout the issue names, as it does on one device.
 */
class ParallelGoldenTest {
    static Path root() {
        return Path.of(System.getProperty("floe.root", "."));
    }

    @ParameterizedTest(name = "{0} tp {1} ep {2}")
    @CsvSource({
            "fixtures/tiny-mixtral, 2, 1", "fixtures/tiny-mixtral, 1, 2", "fixtures/tiny-mixtral, 1, 4", "fixtures/tiny-mixtral, 2, 2",
            "fixtures/tiny-arctic, 2, 1", "fixtures/tiny-arctic, 1, 2", "fixtures/tiny-arctic, 1, 4", "fixtures/tiny-arctic, 2, 2",
            "fixtures/tiny-arctic-fp8, 2, 1", "fixtures/tiny-arctic-fp8, 1, 2", "fixtures/tiny-arctic-fp8, 1, 4", "fixtures/tiny-arctic-fp8, 2, 2",
            "models/arctic-tiny-code, 2, 1", "models/arctic-tiny-code, 2, 2", "models/arctic-tiny-code, 1, 4"})
    void reproducesGoldensOnRanks(String folder, int tp, int ep) {
        Path dir = root().resolve(folder);
        GoldenFixture golden = GoldenFixture.load(dir);
        ModelOptions options = ModelOptions.DEFAULTS.withBackend("cpu-vector").withThreads(2).withParallel(tp, ep);
        try (FloeModel model = FloeEngine.load(dir, options, l -> { })) {
            assertEquals(Math.max(tp, ep), model.ranks());
            List<CheckResult> results = GoldenChecks.run(model, golden, folder, r -> { });
            assertTrue(results.size() >= golden.prompts().size() * 3, "checks ran: " + results.size());
            List<String> failed = results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList();
            assertEquals(List.of(), failed, folder + " on tp " + tp + " x ep " + ep);
        }
    }

    /**
     * A router with state (a seeded random stream) makes on every layout the choices it makes on one device: rank 0
     * routes and hands its decision on, so the stream is drawn once per layer, in the one-device order.
     */
    @ParameterizedTest(name = "tp {0} ep {1}")
    @CsvSource({"2, 1", "1, 2", "2, 2"})
    void aRouterWithStateChoosesAsOnOneDevice(int tp, int ep) {
        Path dir = root().resolve("fixtures/tiny-mixtral");
        ModelOptions one = ModelOptions.DEFAULTS.withBackend("cpu-vector").withRouter("random:seed=7");
        List<int[][]> expected = routing(dir, one), got = routing(dir, one.withParallel(tp, ep));
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(java.util.Arrays.deepToString(expected.get(i)), java.util.Arrays.deepToString(got.get(i)), "decision " + i);
        }
    }

    /** Every routing decision of a prompt and three decoded tokens, in order. */
    private static List<int[][]> routing(Path dir, ModelOptions options) {
        List<int[][]> seen = new java.util.ArrayList<>();
        try (FloeModel model = FloeEngine.load(dir, options, l -> { }); var s = model.newSession(16)) {
            s.observer(new dev.floe.api.ForwardObserver() {
                @Override
                public boolean wantsRouting() {
                    return true;
                }

                @Override
                public void onRouting(int layer, dev.floe.api.RoutingInput input, dev.floe.api.RoutingDecision d) {
                    seen.add(d.experts());
                }
            });
            s.prefill(new int[]{1, 17, 42, 99, 7});
            for (int t = 0; t < 3; t++) s.next(5 + t);
        }
        return seen;
    }

    /** A group of one rank runs the parallel graph (eagerly, its all-reduces the identity), as a one-GPU NCCL check does. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"fixtures/tiny-mixtral", "fixtures/tiny-arctic"})
    void aGroupOfOneRankReproducesTheGoldens(String folder) {
        Path dir = root().resolve(folder);
        var cpu = dev.floe.runtime.Providers.named(dev.floe.runtime.Providers.backends(), "backend", "cpu-vector").provider();
        var group = new CountingGroup(cpu.openGroup(1, dev.floe.spi.BackendOptions.DEFAULTS));
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { }, group)) {
            assertEquals(1, model.ranks());
            List<String> failed = GoldenChecks.run(model, GoldenFixture.load(dir), folder, r -> { }).stream()
                    .filter(r -> !r.passed()).map(CheckResult::line).toList();
            assertEquals(List.of(), failed);
            assertTrue(group.allReduces.get() > 0, "the graph all-reduced on its group of one");
        }
    }

    /** Counts the all-reduces of a group's communicators. */
    static final class CountingGroup implements dev.floe.spi.DeviceGroup {
        final dev.floe.spi.DeviceGroup g;
        final java.util.concurrent.atomic.AtomicLong allReduces = new java.util.concurrent.atomic.AtomicLong();

        CountingGroup(dev.floe.spi.DeviceGroup g) {
            this.g = g;
        }

        @Override public int size() { return g.size(); }
        @Override public dev.floe.spi.Backend backend(int rank) { return g.backend(rank); }
        @Override public void abort(Throwable cause) { g.abort(cause); }
        @Override public void close() { g.close(); }

        @Override
        public dev.floe.spi.Communicator communicator(int rank) {
            dev.floe.spi.Communicator c = g.communicator(rank);
            return new dev.floe.spi.Communicator() {
                @Override public int rank() { return c.rank(); }
                @Override public int size() { return c.size(); }
                @Override public void allReduceSum(dev.floe.spi.Buffer b, long n) { allReduces.incrementAndGet(); c.allReduceSum(b, n); }
                @Override public void allGather(dev.floe.spi.Buffer s, long n, dev.floe.spi.Buffer r) { c.allGather(s, n, r); }
                @Override public void allToAll(dev.floe.spi.Buffer s, long[] so, long[] sc, dev.floe.spi.Buffer r, long[] ro, long[] rc) { c.allToAll(s, so, sc, r, ro, rc); }
                @Override public void broadcast(dev.floe.spi.Buffer b, long n, int root) { c.broadcast(b, n, root); }
                @Override public void close() { c.close(); }
            };
        }
    }
}
