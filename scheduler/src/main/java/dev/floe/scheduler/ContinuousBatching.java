package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

/**
 * Continuous (iteration-level) batching as in Orca/vLLM: every step, each running sequence feeds its pending tokens
 * and waiting requests join, first come first served, with their whole prompt in the step they join. A prompt
 * longer than the token budget is the only one of its pass and is fed in budget-sized pieces. No request joins in
 * a step that had to preempt, and a waiting request that does not fit blocks those behind it (no starvation).
 *
 * @param maxJoins most requests joining in one step (0: no limit)
 */
public record ContinuousBatching(int maxJoins) implements Scheduler {
    @Override
    public String name() {
        return "continuous";
    }

    @Override
    public StepPlan plan(SchedulerState state) {
        PlanBuilder plan = new PlanBuilder(state);
        for (SequenceView s : state.running()) {
            if (plan.isPreempted(s) || plan.full()) continue;
            int tokens = PlanBuilder.decodeStep(s) ? 1 : Math.min(s.pendingTokens(), plan.budgetLeft());
            plan.addPreempting(s, tokens);
        }
        if (plan.preempted()) return plan.build();
        int joined = 0;
        for (SequenceView s : state.waiting()) {
            if (plan.full() || (maxJoins > 0 && joined >= maxJoins)) break;
            int tokens = s.pendingTokens();
            if (tokens > state.tokenBudget()) {
                if (!plan.empty()) break;
                tokens = plan.fitTokens(s, plan.budgetLeft());
            }
            if (!plan.add(s, tokens)) break;
            joined++;
        }
        return plan.build();
    }
}
