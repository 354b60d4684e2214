package dev.floe.api;

/**
 * Chooses the work of the next forward pass: which waiting requests to admit, how many prompt tokens of each to
 * compute, which running requests decode a token, and which to preempt when KV blocks run out. Called from the
 * engine's step loop only.
 */
public interface Scheduler {
    /** The policy's name, as selected with {@code --scheduler NAME}. */
    String name();

    /** Plans one step. */
    StepPlan plan(SchedulerState state);
}
