package dev.floe.runtime.serving;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

import java.util.List;

/**
 * The plan for an engine that serves one request ({@code Model.generate}): all of its pending tokens, up to the
 * token budget and the free KV blocks, every step. It never preempts: the one sequence has nothing to yield to, and
 * a pool shared with other users returns blocks as they finish. Built in, so that {@code Model.generate} needs no
 * scheduler module.
 */
final class SoloScheduler implements Scheduler {
    @Override
    public String name() {
        return "solo";
    }

    @Override
    public StepPlan plan(SchedulerState state) {
        SequenceView s = !state.running().isEmpty() ? state.running().getFirst()
                : !state.waiting().isEmpty() ? state.waiting().getFirst() : null;
        if (s == null) return new StepPlan(List.of(), List.of());
        int n = Math.min(s.pendingTokens(), state.tokenBudget());
        while (n > 0 && s.blocksAfter(n, state.blockSize()) - s.kvBlocks() > state.freeKvBlocks()) n--;
        return n == 0 ? new StepPlan(List.of(), List.of()) : new StepPlan(List.of(new StepPlan.Chunk(s.id(), n)), List.of());
    }
}
