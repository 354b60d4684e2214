package dev.floe.backend.cpu;

import dev.floe.spi.Buffer;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;

import java.util.ArrayList;
import java.util.List;

/**
 * A plan compiled for the CPU: consecutive matmuls that read the same activations with weights of one dtype (the
 * q/k/v projections, an MLP's w1 and w3) become one pool job instead of one each; every other operation runs as its
 * kernel. Replays give the numbers eager execution gives: each output row is computed by the same code on the same
 * inputs.
 */
final class CpuPlan implements CompiledPlan {
    private final CpuVectorBackend backend;
    private final List<Object> steps = new ArrayList<>();
    /** What each step does, for the {@link StepProfile}. */
    private final List<String> labels = new ArrayList<>();
    private volatile boolean closed;

    /** Matmuls sharing one input. */
    private record MatmulGroup(Buffer x, List<PlanOp.Matmul> ops) {
    }

    CpuPlan(CpuVectorBackend backend, Plan plan) {
        this.backend = backend;
        List<PlanOp> ops = plan.ops();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof PlanOp.Matmul first) {
                List<PlanOp.Matmul> group = new ArrayList<>(List.of(first));
                while (i + 1 < ops.size() && ops.get(i + 1) instanceof PlanOp.Matmul next && next.x() == first.x()
                        && next.w().dtype() == first.w().dtype() && next.out() != first.x()
                        && group.stream().noneMatch(m -> m.out() == next.out())) {
                    group.add(next);
                    i++;
                }
                steps.add(group.size() == 1 ? first : new MatmulGroup(first.x(), group));
                labels.add((group.size() == 1 ? "matmul " : "matmul x" + group.size() + " from ") + first.w().name()
                        + " " + first.w().rows() + "x" + first.w().cols() + " " + first.w().dtype());
            } else {
                steps.add(ops.get(i));
                labels.add(label(ops.get(i)));
            }
        }
    }

    private static String label(PlanOp op) {
        return switch (op) {
            case PlanOp.Attention a -> "attention, layer " + a.layer();
            case PlanOp.StoreKv kv -> "storeKv, layer " + kv.layer();
            case PlanOp.Moe m -> "moe, layer " + m.bank().layer() + " (" + m.bank().experts() + " experts)";
            case PlanOp.RmsNorm n -> "rmsNorm " + n.w().name();
            default -> op.getClass().getSimpleName().substring(0, 1).toLowerCase() + op.getClass().getSimpleName().substring(1);
        };
    }

    /** Operations after compilation (fused groups count once). */
    int size() {
        return steps.size();
    }

    @Override
    public void run(Step step) {
        if (closed) throw new IllegalStateException("plan is closed");
        backend.step(step);
        StepProfile profile = backend.profile();
        for (int i = 0; i < steps.size(); i++) {
            Object s = steps.get(i);
            if (profile != null) profile.enter(step.rows(), i);
            if (s instanceof MatmulGroup g) matmuls(g, step.rows());
            else ((PlanOp) s).run(backend, step);
            if (profile != null) profile.leave(labels.get(i));
        }
    }

    /** The group's matmuls as one pool job: tasks over slices of each weight's output rows. */
    private void matmuls(MatmulGroup g, int rows) {
        float[] xs = backend.array(g.x(), "x");
        int n = g.ops().size();
        CpuWeight[] w = new CpuWeight[n];
        float[][] out = new float[n][];
        long work = 0;
        for (int i = 0; i < n; i++) {
            PlanOp.Matmul m = g.ops().get(i);
            w[i] = backend.weight(m.w(), "w");
            out[i] = backend.array(m.out(), "out");
            CpuVectorBackend.need("x", xs, (long) rows * w[i].cols());
            CpuVectorBackend.need("out", out[i], (long) rows * w[i].rows());
            w[i].scan(backend.pool());
            work += (long) w[i].rows() * w[i].cols() * Math.max(1, rows / 4);
        }
        if (rows == 0) return;
        PackedRows xp = backend.packed(xs, rows, w[0]);
        int total = backend.tasksFor(work, Integer.MAX_VALUE);
        if (total == 1) {
            for (int i = 0; i < n; i++) xp.multiply(w[i], 0, (int) w[i].rows(), out[i]);
            return;
        }
        List<int[]> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int outRows = (int) w[i].rows();
            long share = (long) w[i].rows() * w[i].cols() * Math.max(1, rows / 4);
            int slices = (int) Math.max(1, Math.min(outRows / 16, total * share / Math.max(1, work)));
            int per = PackedRows.sliceLength(outRows, slices);
            for (int o0 = 0; o0 < outRows; o0 += per) tasks.add(new int[]{i, o0, Math.min(outRows, o0 + per)});
        }
        backend.pool().run(tasks.size(), t -> {
            int[] task = tasks.get(t);
            xp.multiply(w[task[0]], task[1], task[2], out[task[0]]);
        });
    }

    @Override
    public void close() {
        closed = true;
    }
}
