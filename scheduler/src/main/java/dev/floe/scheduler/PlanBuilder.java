package dev.floe.scheduler;

import dev.floe.api.SchedulerState;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.StepPlan;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds one {@link StepPlan} while keeping the step's accounts: tokens left in the budget, sequence slots left, and
 * free KV blocks (including those returned by preemption). Policies only decide the order of the calls.
 */
final class PlanBuilder {
    private final SchedulerState state;
    private final List<StepPlan.Chunk> chunks = new ArrayList<>();
    private final List<Long> preempted = new ArrayList<>();
    private final Set<Long> planned = new HashSet<>();
    private int budget;
    private int freeBlocks;

    PlanBuilder(SchedulerState state) {
        this.state = state;
        this.budget = state.tokenBudget();
        this.freeBlocks = state.freeKvBlocks();
    }

    int budgetLeft() {
        return budget;
    }

    boolean full() {
        return budget <= 0 || chunks.size() >= state.maxSequences();
    }

    int size() {
        return chunks.size();
    }

    boolean empty() {
        return chunks.isEmpty();
    }

    boolean preempted() {
        return !preempted.isEmpty();
    }

    boolean isPreempted(SequenceView s) {
        return preempted.contains(s.id());
    }

    /** Whether the next pass of {@code s} feeds exactly one generated token. */
    static boolean decodeStep(SequenceView s) {
        return s.decoding() && s.pendingTokens() == 1;
    }

    /** Blocks {@code s} needs beyond those it holds to cache {@code tokens} more tokens. */
    int blocksNeeded(SequenceView s, int tokens) {
        return Math.max(0, s.blocksAfter(tokens, state.blockSize()) - s.kvBlocks());
    }

    /** The most of {@code s}'s pending tokens (at most {@code want}) that the free blocks can hold. */
    int fitTokens(SequenceView s, int want) {
        if (blocksNeeded(s, want) <= freeBlocks) return want; // includes a sink window that evicts to make room
        long capacity = (long) (s.kvBlocks() + freeBlocks) * state.blockSize() - s.computedTokens();
        return (int) Math.max(0, Math.min(want, capacity));
    }

    /** Plans {@code tokens} of {@code s}; false (and nothing planned) when the budget, slots or blocks do not allow it. */
    boolean add(SequenceView s, int tokens) {
        if (tokens < 1 || tokens > budget || chunks.size() >= state.maxSequences() || planned.contains(s.id())) return false;
        int need = blocksNeeded(s, tokens);
        if (need > freeBlocks) return false;
        freeBlocks -= need;
        budget -= tokens;
        planned.add(s.id());
        chunks.add(new StepPlan.Chunk(s.id(), tokens));
        return true;
    }

    /**
     * Plans {@code tokens} of running sequence {@code s}, preempting the most recently admitted running sequences
     * not yet planned until the blocks are there. Returns false when {@code s} itself had to be preempted.
     */
    boolean addPreempting(SequenceView s, int tokens) {
        List<SequenceView> running = state.running();
        int victim = running.size() - 1;
        while (blocksNeeded(s, tokens) > freeBlocks) {
            while (victim >= 0 && (planned.contains(running.get(victim).id()) || isPreempted(running.get(victim)))) victim--;
            if (victim < 0) return false;
            SequenceView v = running.get(victim);
            preempted.add(v.id());
            freeBlocks += v.kvBlocks();
            if (v.id() == s.id()) return false;
        }
        return add(s, tokens);
    }

    StepPlan build() {
        return new StepPlan(chunks, preempted);
    }
}
