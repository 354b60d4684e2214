package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

/**
 * Static batching: a batch of up to {@code maxBatch} waiting requests is admitted only when nothing runs, and runs
 * until every member finishes. Its prompts are fed in budget-sized chunks: the admitting pass gives every member at
 * least one prompt token (the earliest get the rest of the budget), later passes continue them in order. The batch is
 * fixed by the batch size, not by how many prompts fit one pass, so a small token budget does not shrink it.
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
        int members = Math.min(Math.min(limit, state.waiting().size()), plan.budgetLeft());
        for (int i = 0; i < members; i++) {
            SequenceView s = state.waiting().get(i);
            int reserved = members - i - 1; // one token for each later member
            if (!plan.add(s, plan.fitTokens(s, Math.min(s.pendingTokens(), plan.budgetLeft() - reserved)))) break;
        }
        return plan.build();
    }
}
