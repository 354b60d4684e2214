package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

/**
 * Static batching: a batch is admitted only when nothing runs, and runs until every member finishes. Prompts that
 * do not fit the token budget of the admitting pass wait for the next batch (a single over-long prompt is fed in
 * budget-sized chunks).
 *
 * @param maxBatch most requests per batch (0: the engine's sequence limit)
 */
public record StaticBatching(int maxBatch) implements Scheduler {
    @Override
    public String name() {
        return "static";
    }

    @Override
    public StepPlan plan(SchedulerState state) {
        PlanBuilder plan = new PlanBuilder(state);
        if (!state.running().isEmpty()) {
            for (SequenceView s : state.running()) {
                if (plan.isPreempted(s)) continue;
                int tokens = PlanBuilder.decodeStep(s) ? 1 : Math.min(s.pendingTokens(), plan.budgetLeft());
                if (tokens < 1) continue;
                plan.addPreempting(s, tokens);
            }
            return plan.build();
        }
        int limit = maxBatch > 0 ? Math.min(maxBatch, state.maxSequences()) : state.maxSequences();
        for (SequenceView s : state.waiting()) {
            if (plan.empty() && s.pendingTokens() > plan.budgetLeft()) {
                plan.add(s, plan.fitTokens(s, plan.budgetLeft()));
                break;
            }
            if (plan.size() >= limit || !plan.add(s, s.pendingTokens())) break;
        }
        return plan.build();
    }
}
