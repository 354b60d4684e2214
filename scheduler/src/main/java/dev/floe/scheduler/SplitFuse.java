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
 *                 whole prompt does, or all the room the decoders leave when that is smaller), so that passes are
 *                 not filled with slivers
 * @param budget   rows per pass that prompt chunks fill up to beside decode rows (0: the engine's token budget, which
 *                 also caps this one). The decoders always get their row; a budget a little above the batch size
 *                 keeps every pass close to a decode pass, so a joining prompt delays the running streams' next token
 *                 little (the inter-token latency), at the price of a later first token for the prompt. A pass with
 *                 no decode rows stalls no stream and takes prompt chunks up to the engine's budget
 */
public record SplitFuse(int minChunk, int budget) implements Scheduler {
    public SplitFuse {
        if (minChunk < 1) throw new IllegalArgumentException("min-chunk " + minChunk + " is not positive");
        if (budget < 0) throw new IllegalArgumentException("budget " + budget + " is negative");
    }

    /** The engine's token budget per pass. */
    public SplitFuse(int minChunk) {
        this(minChunk, 0);
    }

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
        int cap = budget > 0 && !plan.empty() ? Math.min(budget, state.tokenBudget()) : state.tokenBudget();
        int leftByDecoders = promptRoom(plan, state, cap);
        for (SequenceView s : state.running()) {
            if (PlanBuilder.decodeStep(s) || plan.isPreempted(s) || plan.full()) continue;
            int tokens = plan.fitTokens(s, Math.min(s.pendingTokens(), promptRoom(plan, state, cap)));
            if (tokens >= 1) plan.add(s, tokens);
        }
        if (plan.preempted()) return plan.build();
        for (SequenceView s : state.waiting()) {
            if (plan.full()) break;
            int tokens = plan.fitTokens(s, Math.min(s.pendingTokens(), promptRoom(plan, state, cap)));
            if (tokens < 1 || tokens < Math.min(Math.min(minChunk, leftByDecoders), s.pendingTokens()) || !plan.add(s, tokens)) break;
        }
        return plan.build();
    }

    /** Prompt tokens the pass still takes: up to {@code cap} rows in all, within the engine's budget. */
    private static int promptRoom(PlanBuilder plan, SchedulerState state, int cap) {
        return Math.min(plan.budgetLeft(), cap - (state.tokenBudget() - plan.budgetLeft()));
    }
}
