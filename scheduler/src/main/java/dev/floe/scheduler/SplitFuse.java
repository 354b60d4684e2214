package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

/**
 * Dynamic SplitFuse (DeepSpeed-FastGen): every pass carries a fixed token budget. Decode tokens of the running
 * sequences come first, one each; prompt chunks then fill what is left, oldest first, so a long prompt is split over
 * several passes and never stalls the decoders.
 *
 * @param minChunk a waiting request starts only if at least this many of its prompt tokens fit the pass (or its
 *                 whole prompt does, or the whole budget when it is smaller), so that passes are not filled with
 *                 slivers
 */
public record SplitFuse(int minChunk) implements Scheduler {
    @Override
    public String name() {
        return "splitfuse";
    }

    @Override
    public StepPlan plan(SchedulerState state) {
        PlanBuilder plan = new PlanBuilder(state);
        for (SequenceView s : state.running()) {
            if (PlanBuilder.decodeStep(s) && !plan.isPreempted(s) && !plan.full()) plan.addPreempting(s, 1);
        }
        for (SequenceView s : state.running()) {
            if (PlanBuilder.decodeStep(s) || plan.isPreempted(s) || plan.full()) continue;
            int tokens = plan.fitTokens(s, Math.min(s.pendingTokens(), plan.budgetLeft()));
            if (tokens >= 1) plan.add(s, tokens);
        }
        if (plan.preempted()) return plan.build();
        for (SequenceView s : state.waiting()) {
            if (plan.full()) break;
            int tokens = plan.fitTokens(s, Math.min(s.pendingTokens(), plan.budgetLeft()));
            if (tokens < Math.min(Math.min(minChunk, state.tokenBudget()), s.pendingTokens()) || !plan.add(s, tokens)) break;
        }
        return plan.build();
    }
}
