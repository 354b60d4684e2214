package dev.floe.backend.cpu;

import dev.floe.api.RoutingDecision;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.ExpertRows;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;

import java.util.ArrayList;
import java.util.List;

/**
 * The MoE block in a few pool jobs: the router logits (one matmul), then every chosen expert's
 * {@code silu(w1 x) * (w3 x)} in one job (tasks over experts and slices of the intermediate width, each slice's
 * SwiGLU done by the task that computed it), then every expert's {@code w2} in one job. Routing runs on the calling
 * thread by the {@link dev.floe.api.RoutingSpec}'s own rule (the host is this backend's device), and the weighted
 * sum goes into {@code dst} in ascending expert order, as the decomposition adds it. For a prompt's many rows the
 * gathering and packing of each job's inputs (a group per task) and the weighted sum (ranges of columns) are shared
 * out too; a decode step's few rows stay on the calling thread.
 */
final class FusedMoe {
    /** Per thread: the working arrays of every group, reused from call to call. */
    private static final ThreadLocal<ReusedArrays> ARRAYS = ThreadLocal.withInitial(ReusedArrays::new);

    private FusedMoe() {
    }

    /** One chosen expert: its rows of the call, their weights, and its work arrays. */
    private record Group(int expert, int[] rows, float[] scales, CpuWeight w1, CpuWeight w2, CpuWeight w3,
                         float[] a, float[] b, float[] out) {
        int n() {
            return rows.length;
        }
    }

    static void run(CpuVectorBackend backend, MoeCall call) {
        ReusedArrays arrays = ARRAYS.get();
        try {
            run(backend, call, arrays);
        } finally {
            arrays.takeBackAll();
        }
    }

    private static void run(CpuVectorBackend backend, MoeCall call, ReusedArrays arrays) {
        float[] in = backend.array(call.input(), "input");
        float[] dst = backend.array(call.dst(), "dst");
        int t = call.rows();
        ExpertBank bank = call.bank();
        int experts = bank.experts();
        StepProfile profile = backend.profile();
        RoutingDecision decision = switch (call.routing()) {
            case MoeRouting.Decided d -> d.decision();
            case MoeRouting.OnDevice d -> route(backend, call, in, t, experts, d);
        };
        List<Group> groups = groups(backend, decision, bank, experts, arrays);
        if (groups.isEmpty()) return;
        int hidden = (int) groups.getFirst().w1().cols();
        CpuVectorBackend.need("input", in, (long) t * hidden);
        CpuVectorBackend.need("dst", dst, (long) t * hidden);
        WorkerPool pool = backend.pool();

        // job 1: silu(w1 x) * (w3 x) of every group, sliced over the intermediate width; the groups' rows gathered
        // and packed first, a group per task (the arrays are taken here: the pool is the calling thread's)
        int count = groups.size();
        PackedRows[] xp1 = new PackedRows[count], xp3 = new PackedRows[count];
        float[][] gathered = new float[count][], into1 = new float[count][], into3 = new float[count][];
        long work = 0;
        for (int g = 0; g < count; g++) {
            Group gr = groups.get(g);
            gathered[g] = arrays.take(gr.n() * hidden);
            into1[g] = arrays.take(PackedRows.floats(gr.n(), gr.w1()));
            if (gr.w3().dtype() != gr.w1().dtype()) into3[g] = arrays.take(PackedRows.floats(gr.n(), gr.w3()));
            work += 2L * gr.n() * gr.w1().rows() * hidden;
        }
        if (profile != null) profile.phase(1, "moe: routing, the experts' arrays");
        eachGroup(backend, groups, hidden, g -> {
            Group gr = groups.get(g);
            float[] x = gathered[g];
            for (int i = 0; i < gr.n(); i++) System.arraycopy(in, gr.rows()[i] * hidden, x, i * hidden, hidden);
            xp1[g] = PackedRows.of(null, x, gr.n(), gr.w1(), into1[g]);
            xp3[g] = into3[g] == null ? xp1[g] : PackedRows.of(null, x, gr.n(), gr.w3(), into3[g]);
        });
        if (profile != null) profile.phase(2, "moe: rows gathered and packed for w1, w3");
        Slices up = Slices.of(backend, groups, work, g -> (int) g.w1().rows());
        up.run(pool, task -> {
            int g = up.group(task), o0 = up.from(task), o1 = up.to(task);
            Group gr = groups.get(g);
            int inter = (int) gr.w1().rows();
            xp1[g].multiply(gr.w1(), o0, o1, gr.a());
            xp3[g].multiply(gr.w3(), o0, o1, gr.b());
            for (int r = 0; r < gr.n(); r++) CpuVectorBackend.swiglu(gr.a(), gr.b(), r * inter + o0, r * inter + o1, gr.a());
        });

        if (profile != null) profile.phase(3, "moe: w1, w3 and SwiGLU of every expert");

        // job 2: w2 of every group, sliced over the hidden width
        PackedRows[] hp = new PackedRows[count];
        float[][] into2 = new float[count][];
        work = 0;
        for (int g = 0; g < count; g++) {
            Group gr = groups.get(g);
            into2[g] = arrays.take(PackedRows.floats(gr.n(), gr.w2()));
            work += (long) gr.n() * hidden * gr.w2().cols();
        }
        eachGroup(backend, groups, (int) groups.getFirst().w2().cols(), g -> {
            Group gr = groups.get(g);
            hp[g] = PackedRows.of(null, gr.a(), gr.n(), gr.w2(), into2[g]);
        });
        if (profile != null) profile.phase(4, "moe: rows packed for w2");
        Slices down = Slices.of(backend, groups, work, g -> hidden);
        down.run(pool, task -> {
            int g = down.group(task);
            Group gr = groups.get(g);
            hp[g].multiply(gr.w2(), down.from(task), down.to(task), gr.out());
        });

        if (profile != null) profile.phase(5, "moe: w2 of every expert");

        // the weighted sum, in ascending expert order: each range of columns adds the groups in that order
        backend.ranges(hidden, Math.max(1, t), Matmul.VL, (c0, c1) -> {
            for (Group gr : groups) {
                for (int i = 0; i < gr.n(); i++) {
                    CpuVectorBackend.addScaled(gr.out(), i * hidden + c0, gr.scales()[i], dst, gr.rows()[i] * hidden + c0, c1 - c0);
                }
            }
        });
        if (profile != null) profile.phase(6, "moe: weighted sum");
    }

    /** {@code body} for every group: one task each across the pool, or all on the calling thread for a few rows. */
    private static void eachGroup(CpuVectorBackend backend, List<Group> groups, int width, java.util.function.IntConsumer body) {
        long elements = 0;
        for (Group gr : groups) elements += (long) gr.n() * width;
        if (backend.shares(elements)) {
            backend.pool().run(groups.size(), body);
        } else {
            for (int g = 0; g < groups.size(); g++) body.accept(g);
        }
    }

    /** Router logits (one matmul) and the spec's decision on them; reported to the trace when asked. */
    private static RoutingDecision route(CpuVectorBackend backend, MoeCall call, float[] in, int t, int experts,
                                         MoeRouting.OnDevice d) {
        CpuWeight gate = backend.weight(call.gate(), "gate");
        if (gate.rows() != experts) {
            throw new IllegalArgumentException("gate: " + gate.name() + " has " + gate.rows() + " rows for the bank's "
                    + experts + " experts");
        }
        int hidden = (int) gate.cols();
        CpuVectorBackend.need("input", in, (long) t * hidden);
        float[] flat = new float[t * experts];
        backend.matmul(in, t, gate, flat);
        float[][] logits = new float[t][];
        for (int r = 0; r < t; r++) logits[r] = java.util.Arrays.copyOfRange(flat, r * experts, (r + 1) * experts);
        RoutingDecision decision = d.spec().route(logits);
        if (call.trace() != null) call.trace().record(logits, decision);
        return decision;
    }

    /** The chosen experts in ascending index, each with its rows in row order. */
    private static List<Group> groups(CpuVectorBackend backend, RoutingDecision decision, ExpertBank bank, int experts,
                                      ReusedArrays arrays) {
        List<Group> groups = new ArrayList<>();
        for (ExpertRows g : ExpertRows.of(decision, experts)) {
            int x = g.expert();
            int[] rows = g.rows();
            float[] scales = g.weights();
            ExpertBank.Weights w = bank.expert(x);
            CpuWeight w1 = backend.weight(w.w1(), "expert " + x + " w1");
            CpuWeight w2 = backend.weight(w.w2(), "expert " + x + " w2");
            CpuWeight w3 = backend.weight(w.w3(), "expert " + x + " w3");
            if (w3.rows() != w1.rows() || w3.cols() != w1.cols() || w2.cols() != w1.rows() || w2.rows() != w1.cols()) {
                throw new IllegalArgumentException("expert " + x + " of layer " + bank.layer() + ": w1 " + w1.rows() + "x" + w1.cols()
                        + ", w3 " + w3.rows() + "x" + w3.cols() + ", w2 " + w2.rows() + "x" + w2.cols() + " do not form a SwiGLU MLP");
            }
            for (CpuWeight cw : new CpuWeight[]{w1, w2, w3}) cw.scan(backend.pool());
            int n = rows.length, inter = (int) w1.rows(), hidden = (int) w1.cols();
            groups.add(new Group(x, rows, scales, w1, w2, w3, arrays.take(n * inter), arrays.take(n * inter), arrays.take(n * hidden)));
        }
        return groups;
    }

    /** Tasks of one job: slices of each group's output rows. */
    private record Slices(int[] group, int[] from, int[] to, boolean inline) {
        /** Runs every task: as one pool job, or on the calling thread when the work is too small to share. */
        void run(WorkerPool pool, java.util.function.IntConsumer task) {
            if (inline) {
                for (int i = 0; i < group.length; i++) task.accept(i);
            } else {
                pool.run(group.length, task);
            }
        }

        static Slices of(CpuVectorBackend backend, List<Group> groups, long work,
                         java.util.function.ToIntFunction<Group> outRows) {
            int total = backend.tasksFor(work, Integer.MAX_VALUE);
            int perGroup = Math.max(1, total / groups.size());
            List<int[]> tasks = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                int rows = outRows.applyAsInt(groups.get(g));
                int per = PackedRows.sliceLength(rows, Math.min(perGroup, rows / 16));
                for (int o0 = 0; o0 < rows; o0 += per) tasks.add(new int[]{g, o0, Math.min(rows, o0 + per)});
            }
            // largest first, so that the threads run out of work together (the experts' rows are uneven: 3 to 100 of
            // a 256-token prompt's 512 in peer-cpu); pp256 1-2% faster in one JVM, alternating
            tasks.sort(java.util.Comparator.comparingLong((int[] a) -> -(long) groups.get(a[0]).n() * (a[2] - a[1])));
            return new Slices(tasks.stream().mapToInt(a -> a[0]).toArray(), tasks.stream().mapToInt(a -> a[1]).toArray(),
                    tasks.stream().mapToInt(a -> a[2]).toArray(), total == 1);
        }

        int count() {
            return group.length;
        }

        int group(int task) {
            return group[task];
        }

        int from(int task) {
            return from[task];
        }

        int to(int task) {
            return to[task];
        }
    }
}
