package dev.floe.spi;

import java.util.List;

/**
 * A forward pass's layers as records of operations, described once per shape by the runtime and run once per pass
 * with that pass's {@link Step}. A backend with {@link Capability#PLANS} compiles it ({@link Backend#compile}) into
 * something it replays (a captured CUDA graph, fewer and larger pool jobs, one enqueue sequence); otherwise the
 * runtime interprets it with {@link #interpret}. A plan holds no host data: everything that changes between passes
 * is in the step.
 */
public record Plan(List<PlanOp> ops) {
    public Plan {
        ops = List.copyOf(ops);
    }

    /** Runs every operation eagerly, in order: the meaning a compiled plan must reproduce. */
    public void interpret(Backend b, Step step) {
        for (PlanOp op : ops) op.run(b, step);
    }
}
