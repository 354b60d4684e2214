package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A model-free engine loop: it keeps the sequences and a KV block pool as the serving engine does, applies every
 * plan, checks each plan against the rules every policy must keep, and counts what happened.
 */
final class Simulation {
    /** One simulated request. */
    static final class Seq {
        final long id;
        final int prompt;
        final int maxTokens;
        int generated;
        int computed;
        int blocks;
        int admittedAt = -1;
        int finishedAt = -1;
        int preemptions;

        Seq(long id, int prompt, int maxTokens) {
            this.id = id;
            this.prompt = prompt;
            this.maxTokens = maxTokens;
        }

        int total() {
            // the last sampled token is pending until it is fed back
            return prompt + generated;
        }

        SequenceView view() {
            return new SequenceView(id, prompt, computed, total(), blocks);
        }
    }

    final Scheduler scheduler;
    final int totalBlocks, blockSize, budget, maxSequences;
    final List<Seq> waiting = new ArrayList<>();
    final List<Seq> running = new ArrayList<>();
    final List<Seq> finished = new ArrayList<>();
    final List<StepPlan> plans = new ArrayList<>();
    int freeBlocks;
    int step;
    int maxRunning;

    Simulation(Scheduler scheduler, int totalBlocks, int blockSize, int budget, int maxSequences) {
        this.scheduler = scheduler;
        this.totalBlocks = totalBlocks;
        this.freeBlocks = totalBlocks;
        this.blockSize = blockSize;
        this.budget = budget;
        this.maxSequences = maxSequences;
    }

    void submit(long id, int prompt, int maxTokens) {
        waiting.add(new Seq(id, prompt, maxTokens));
    }

    /** Steps until every request has finished; fails after {@code maxSteps}. */
    void runToEnd(int maxSteps) {
        while (!waiting.isEmpty() || !running.isEmpty()) {
            if (step >= maxSteps) fail(scheduler.name() + " did not finish in " + maxSteps + " steps: " + waiting.size() + " waiting, " + running.size() + " running");
            step();
        }
        assertEquals(totalBlocks, freeBlocks, "every block returns to the pool");
    }

    void step() {
        SchedulerState state = new SchedulerState(waiting.stream().map(Seq::view).toList(), running.stream().map(Seq::view).toList(),
                freeBlocks, blockSize, budget, maxSequences);
        StepPlan plan = scheduler.plan(state);
        plans.add(plan);
        assertTrue(plan.totalTokens() <= budget, "step " + step + ": " + plan.totalTokens() + " tokens exceed the budget of " + budget);
        assertTrue(plan.chunks().size() <= maxSequences, "step " + step + ": too many sequences");
        Map<Long, Seq> byId = new HashMap<>();
        for (Seq s : waiting) byId.put(s.id, s);
        for (Seq s : running) byId.put(s.id, s);
        for (long id : plan.preempt()) {
            Seq s = running.stream().filter(x -> x.id == id).findFirst().orElseThrow(() -> new AssertionError("preempted " + id + " is not running"));
            running.remove(s);
            freeBlocks += s.blocks;
            s.blocks = 0;
            s.computed = 0;
            s.preemptions++;
            waiting.add(s);
            waiting.sort(Comparator.comparingLong(x -> x.id));
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (StepPlan.Chunk c : plan.chunks()) {
            assertTrue(seen.add(c.sequenceId()), "sequence " + c.sequenceId() + " planned twice");
            assertFalse(plan.preempt().contains(c.sequenceId()), "sequence " + c.sequenceId() + " planned and preempted");
            Seq s = byId.get(c.sequenceId());
            if (s == null) fail("plan names unknown sequence " + c.sequenceId());
            assertTrue(c.tokens() <= s.total() - s.computed, "chunk of " + c.tokens() + " exceeds the pending tokens of " + s.id);
            int need = Math.max(0, (s.computed + c.tokens() + blockSize - 1) / blockSize - s.blocks);
            assertTrue(need <= freeBlocks, "step " + step + ": chunk of " + s.id + " needs " + need + " blocks, " + freeBlocks + " free");
            freeBlocks -= need;
            s.blocks += need;
            if (waiting.remove(s)) {
                running.add(s);
                if (s.admittedAt < 0) s.admittedAt = step;
            }
            s.computed += c.tokens();
        }
        maxRunning = Math.max(maxRunning, running.size());
        for (StepPlan.Chunk c : plan.chunks()) {
            Seq s = byId.get(c.sequenceId());
            if (s.computed == s.total()) {
                s.generated++;
                if (s.generated >= s.maxTokens) {
                    running.remove(s);
                    freeBlocks += s.blocks;
                    s.blocks = 0;
                    s.finishedAt = step;
                    finished.add(s);
                }
            }
        }
        step++;
    }
}
