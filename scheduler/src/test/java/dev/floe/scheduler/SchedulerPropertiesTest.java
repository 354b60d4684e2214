package dev.floe.scheduler;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;
import dev.floe.spi.SchedulerProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rules every policy keeps, checked over random workloads in a simulated engine loop. */
class SchedulerPropertiesTest {
    static Scheduler create(String name) {
        // the module's own providers (the runtime finds them through ServiceLoader, as its tests check); a name with
        // ":budget=N" gives splitfuse that parameter
        Map<String, String> params = name.contains(":") ? Map.of("budget", name.substring(name.indexOf('=') + 1)) : Map.of();
        String bare = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
        return List.<SchedulerProvider>of(new StaticBatchingProvider(), new ContinuousBatchingProvider(), new SplitFuseProvider())
                .stream().filter(p -> p.name().equals(bare)).findFirst().orElseThrow().create(params);
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse", "splitfuse:budget=3", "splitfuse:budget=20"})
    void randomWorkloadsFinishWithinBudgetAndBlocks(String name) {
        SplittableRandom random = new SplittableRandom(name.hashCode());
        for (int trial = 0; trial < 40; trial++) {
            int blockSize = 1 + random.nextInt(16);
            int budget = 1 + random.nextInt(200);
            int maxSeq = 1 + random.nextInt(12);
            int maxPrompt = 1 + random.nextInt(300);
            int maxTokens = 1 + random.nextInt(40);
            // the pool holds at least one request of the largest size, as the engine guarantees at admission
            int largest = (maxPrompt + maxTokens + blockSize - 1) / blockSize;
            int blocks = largest + random.nextInt(4 * largest + 1);
            Simulation sim = new Simulation(create(name), blocks, blockSize, budget, maxSeq);
            int requests = 1 + random.nextInt(30);
            for (int i = 0; i < requests; i++) sim.submit(i, 1 + random.nextInt(maxPrompt), 1 + random.nextInt(maxTokens));
            sim.runToEnd(100_000);
            assertEquals(requests, sim.finished.size(), name + " trial " + trial);
        }
    }

    /** A sequence at its sink window's capacity evicts a block for each it takes: a full pool does not stop it. */
    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void aFullSinkWindowNeedsNoNewBlock(String name) {
        int blockSize = 16, limit = 8 * blockSize;
        SequenceView full = new SequenceView(1, 10, limit, limit + 1, 8, limit);
        StepPlan plan = create(name).plan(new SchedulerState(List.of(), List.of(full), 0, blockSize, 64, 4));
        assertEquals(List.of(), plan.preempt(), name);
        assertEquals(List.of(new StepPlan.Chunk(1, 1)), plan.chunks(), name);
        // without the window the same sequence needs a ninth block, which a full pool does not have
        SequenceView growing = new SequenceView(1, 10, limit, limit + 1, 8);
        StepPlan stuck = create(name).plan(new SchedulerState(List.of(), List.of(growing), 0, blockSize, 64, 4));
        assertTrue(stuck.chunks().isEmpty(), name + ": " + stuck);
        assertEquals(9, growing.blocksAfter(1, blockSize));
        assertEquals(8, full.blocksAfter(100, blockSize));
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void firstComeFirstServed(String name) {
        Simulation sim = new Simulation(create(name), 1000, 16, 64, 4);
        for (int i = 0; i < 12; i++) sim.submit(i, 20, 5);
        sim.runToEnd(10_000);
        List<Simulation.Seq> byId = sim.finished.stream().sorted((x, y) -> Long.compare(x.id, y.id)).toList();
        for (int i = 1; i < byId.size(); i++) {
            assertTrue(byId.get(i - 1).admittedAt <= byId.get(i).admittedAt, name + ": request " + i + " admitted before " + (i - 1));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void preemptsTheMostRecentlyAdmittedWhenBlocksRunOut(String name) {
        // two sequences each with one full block and 2 blocks free: the next decode needs one each, then none left
        SchedulerState state = new SchedulerState(List.of(), List.of(
                new SequenceView(1, 4, 4, 5, 1), new SequenceView(2, 4, 4, 5, 1)), 2, 4, 64, 8);
        StepPlan plan = create(name).plan(state);
        assertEquals(List.of(new StepPlan.Chunk(1, 1), new StepPlan.Chunk(2, 1)), plan.chunks());
        SchedulerState tight = new SchedulerState(List.of(), List.of(
                new SequenceView(1, 4, 4, 5, 1), new SequenceView(2, 4, 4, 5, 1)), 0, 4, 64, 8);
        StepPlan evict = create(name).plan(tight);
        assertEquals(List.of(2L), evict.preempt());
        assertEquals(List.of(new StepPlan.Chunk(1, 1)), evict.chunks());
    }

    @Test
    void staticAdmitsOnlyWhenNothingRuns() {
        Scheduler s = create("static");
        SchedulerState state = new SchedulerState(List.of(new SequenceView(3, 5, 0, 5, 0)),
                List.of(new SequenceView(1, 4, 4, 5, 1)), 100, 16, 64, 8);
        assertEquals(List.of(new StepPlan.Chunk(1, 1)), s.plan(state).chunks());
        Simulation sim = new Simulation(s, 1000, 16, 256, 4);
        for (int i = 0; i < 8; i++) sim.submit(i, 10, 3 + i);
        sim.runToEnd(1000);
        // batch one is requests 0..3; batch two starts only after request 3 (the longest of them) finishes
        int lastOfFirst = sim.finished.stream().filter(q -> q.id < 4).mapToInt(q -> q.finishedAt).max().orElseThrow();
        assertTrue(sim.finished.stream().filter(q -> q.id >= 4).allMatch(q -> q.admittedAt > lastOfFirst));
    }

    @Test
    void staticBatchIsFixedByTheBatchSizeNotByTheBudget() {
        Simulation sim = new Simulation(create("static"), 1000, 16, 8, 4);
        for (int i = 0; i < 6; i++) sim.submit(i, 20, 3);
        sim.step();
        assertEquals(List.of(new StepPlan.Chunk(0, 5), new StepPlan.Chunk(1, 1), new StepPlan.Chunk(2, 1), new StepPlan.Chunk(3, 1)),
                sim.plans.getFirst().chunks(), "every member joins in the admitting pass; the earliest gets the rest of the budget");
        sim.runToEnd(1000);
        int firstBatch = sim.finished.stream().filter(q -> q.id < 4).mapToInt(q -> q.admittedAt).max().orElseThrow();
        assertEquals(0, firstBatch, "requests 0..3 were admitted together");
        int lastOfFirst = sim.finished.stream().filter(q -> q.id < 4).mapToInt(q -> q.finishedAt).max().orElseThrow();
        assertTrue(sim.finished.stream().filter(q -> q.id >= 4).allMatch(q -> q.admittedAt > lastOfFirst));
        for (StepPlan p : sim.plans) assertTrue(p.totalTokens() <= 8, "the budget holds in every pass");
    }

    @Test
    void continuousAdmitsWholePromptsEveryStep() {
        Simulation sim = new Simulation(create("continuous"), 1000, 16, 256, 8);
        for (int i = 0; i < 3; i++) sim.submit(i, 30, 20);
        sim.step();
        assertEquals(90, sim.plans.getFirst().totalTokens());
        sim.submit(3, 40, 5);
        sim.step();
        assertEquals(List.of(new StepPlan.Chunk(0, 1), new StepPlan.Chunk(1, 1), new StepPlan.Chunk(2, 1), new StepPlan.Chunk(3, 40)),
                sim.plans.get(1).chunks());
    }

    @Test
    void splitFuseDecodesFirstAndSplitsLongPrompts() {
        Simulation sim = new Simulation(create("splitfuse"), 1000, 16, 64, 8);
        sim.submit(0, 10, 50);
        sim.step();
        sim.submit(1, 200, 5);
        for (int i = 0; i < 4; i++) sim.step();
        for (StepPlan p : sim.plans.subList(1, 5)) {
            assertEquals(new StepPlan.Chunk(0, 1), p.chunks().getFirst(), "the decoder goes first");
        }
        for (StepPlan p : sim.plans.subList(1, 4)) {
            assertEquals(List.of(new StepPlan.Chunk(0, 1), new StepPlan.Chunk(1, 63)), p.chunks(), "the prompt fills the budget");
        }
        assertEquals(new StepPlan.Chunk(1, 200 - 3 * 63), sim.plans.get(4).chunks().get(1), "the rest of the prompt");
    }

    /**
     * SplitFuse's own budget keeps a joining prompt from stretching the decoders' pass: every pass stays within it
     * (the decoders always get their row), and a long prompt is fed in the room the decoders leave.
     */
    @Test
    void splitFuseBudgetCapsThePromptRowsBesideTheDecoders() {
        Simulation sim = new Simulation(create("splitfuse:budget=12"), 1000, 16, 256, 16);
        for (int i = 0; i < 8; i++) sim.submit(i, 1, 40);
        sim.step();
        assertEquals(8, sim.plans.getFirst().chunks().size(), "eight one-token prompts in the first pass");
        sim.submit(8, 100, 5);
        for (int i = 0; i < 10; i++) sim.step();
        for (StepPlan p : sim.plans.subList(1, 11)) {
            assertTrue(p.totalTokens() <= 12, "a pass of " + p.totalTokens() + " rows beyond the budget of 12");
            for (long id = 0; id < 8; id++) {
                long decoder = id;
                assertTrue(p.chunks().stream().anyMatch(c -> c.sequenceId() == decoder && c.tokens() == 1), "decoder " + id + " in every pass");
            }
        }
        assertEquals(new StepPlan.Chunk(8, 4), sim.plans.get(1).chunks().getLast(), "the prompt gets the room the eight decoders leave");
        sim.runToEnd(1000);
        assertEquals(9, sim.finished.size());
        // with no decoder in the pass there is no stream to delay: the prompt takes the engine's budget
        Simulation alone = new Simulation(create("splitfuse:budget=12"), 1000, 16, 256, 16);
        alone.submit(0, 100, 5);
        alone.step();
        assertEquals(List.of(new StepPlan.Chunk(0, 100)), alone.plans.getFirst().chunks());
        // without its own budget the same prompt takes the engine's 256 less the decoders in one pass
        Simulation wide = new Simulation(create("splitfuse"), 1000, 16, 256, 16);
        for (int i = 0; i < 8; i++) wide.submit(i, 1, 40);
        wide.step();
        wide.submit(8, 100, 5);
        wide.step();
        assertEquals(new StepPlan.Chunk(8, 100), wide.plans.get(1).chunks().getLast());
    }

    @Test
    void unknownAndMistypedParametersAreRejected() {
        SchedulerProvider p = new SplitFuseProvider();
        assertThrows(InvalidRequestException.class, () -> p.create(Map.of("chunk", "4")));
        assertThrows(InvalidRequestException.class, () -> p.create(Map.of("min-chunk", "x")));
        assertEquals(new SplitFuse(4), p.create(Map.of("min-chunk", "4")));
        assertEquals(new SplitFuse(16, 40), p.create(Map.of("budget", "40")));
        assertThrows(InvalidRequestException.class, () -> p.create(Map.of("budget", "-1")));
    }
}
