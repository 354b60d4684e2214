package dev.floe.backend.opencl;

import dev.floe.spi.CompiledPlan;
import dev.floe.spi.KernelArguments;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A plan compiled for OpenCL: one enqueue sequence with no host read and no wait in it (the runtime's download of the
 * logits after it is the pass's one synchronisation).
 *
 * <p>Compilation resolves each operation to its kernel and gives every launch a kernel object of its own, whose
 * arguments that do not change between passes (buffers, weights, widths, scratch sizes) are set once; a run sets only
 * what the step decides (its row count, its metadata objects) and enqueues. Own objects because kernel arguments are
 * state of the object: a kernel shared with eager calls or another plan would lose the arguments set here.
 *
 * <p>With one token row (decode, where PoCL spends more time per launch than in it), neighbouring operations become
 * one launch (plan.cl): matmuls that read the same activations (q, k and v: up to three), an MLP's gate and up
 * matmuls with their SwiGLU, a matmul with the residual add that consumes it. At any row count, RoPE of q and k with
 * the KV store is one launch, and so are two neighbouring norms. Each fused launch computes what the kernels it
 * replaces compute, with their code, and leaves every buffer they write as they would (intermediate results
 * included): a replay gives the numbers eager execution gives, bit for bit. Attention (launches split by the step's positions) and the MoE block (its experts
 * resolved from the bank per pass, {@link ClMoe}) run as the backend runs them eagerly.
 */
final class ClPlan implements CompiledPlan {
    private final OpenClBackend b;
    private final List<Part> parts = new ArrayList<>();
    /** The kernel objects this plan created (its own, never shared). */
    private final List<ClProgram.Kernel> kernels = new ArrayList<>();
    /** Every memory object the plan's own launches use: a run refuses to start when one of them is closed. */
    private final Set<DeviceMemory> uses = Collections.newSetFromMap(new IdentityHashMap<>());
    /** The most rows a step may have: the smallest buffer's capacity in rows; and what it is. */
    private long maxRows = Integer.MAX_VALUE;
    private String limit = "";
    private boolean closed;

    /** One or more operations as compiled: what a run enqueues for them. */
    private interface Part {
        void run(ClStep s, int rows);
    }

    ClPlan(OpenClBackend b, Plan plan) {
        this.b = b;
        List<PlanOp> ops = plan.ops();
        try {
            for (int i = 0; i < ops.size(); ) i += compile(ops, i);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Compiles the operations from {@code i} on into one part; returns how many it took. */
    private int compile(List<PlanOp> ops, int i) {
        PlanOp op = ops.get(i);
        if (op instanceof PlanOp.Matmul m) {
            PlanOp next = i + 1 < ops.size() ? ops.get(i + 1) : null;
            PlanOp third = i + 2 < ops.size() ? ops.get(i + 2) : null;
            if (next instanceof PlanOp.Matmul m3 && third instanceof PlanOp.Swiglu s && fusesMlpUp(m, m3, s)) {
                parts.add(mlpUpPart(m, m3, s));
                return 3;
            }
            List<PlanOp.Matmul> group = group(ops, i);
            if (group.size() > 1) {
                parts.add(groupPart(group));
                return group.size();
            }
            if (next instanceof PlanOp.Add a && fusesMatmulAdd(m, a)) {
                parts.add(matmulAddPart(m, a));
                return 2;
            }
            parts.add(matmul(m));
            return 1;
        }
        if (op instanceof PlanOp.RmsNorm n0 && i + 1 < ops.size() && ops.get(i + 1) instanceof PlanOp.RmsNorm n1
                && fusesNorms(n0, n1)) {
            parts.add(norms(n0, n1));
            return 2;
        }
        if (op instanceof PlanOp.Rope q && i + 2 < ops.size() && ops.get(i + 1) instanceof PlanOp.Rope k
                && ops.get(i + 2) instanceof PlanOp.StoreKv st && fusesRopeStore(q, k, st)) {
            parts.add(ropeStore(q, k, st));
            return 3;
        }
        parts.add(single(op));
        return 1;
    }

    @Override
    public void run(Step step) {
        if (closed) throw new IllegalStateException("this compiled opencl plan is closed: compile the plan again");
        b.requireOpen();
        ClStep s = b.step(step);
        int rows = s.rows();
        if (rows > maxRows) {
            throw new IllegalArgumentException("plan: a step of " + rows + " rows exceeds the " + maxRows + " rows that "
                    + limit + " holds");
        }
        for (DeviceMemory m : uses) {
            if (m.freed()) throw new IllegalStateException("plan: the " + m.label() + " it uses is closed");
        }
        if (rows == 0) return;
        for (Part p : parts) p.run(s, rows);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        b.forget(this);
        for (ClProgram.Kernel k : kernels) b.program().release(k);
        kernels.clear();
    }

    // ---- fusions ------------------------------------------------------------------------------------------------

    /** Up to three consecutive matmuls from {@code i} that read the same x with weights of one kernel. */
    private List<PlanOp.Matmul> group(List<PlanOp> ops, int i) {
        PlanOp.Matmul first = (PlanOp.Matmul) ops.get(i);
        List<PlanOp.Matmul> group = new ArrayList<>(List.of(first));
        ClWeight w0 = b.weight(first.w(), "w");
        if (w0.block() != null || first.out() == first.x()) return group;
        while (group.size() < 3 && i + group.size() < ops.size()
                && ops.get(i + group.size()) instanceof PlanOp.Matmul next && next.x() == first.x()
                && next.out() != first.x() && group.stream().noneMatch(m -> m.out() == next.out())
                && b.weight(next.w(), "w").block() == null
                && b.weight(next.w(), "w").kernelSuffix().equals(w0.kernelSuffix())
                && b.weight(next.w(), "w").cols() == w0.cols()) {
            group.add(next);
        }
        if (group.size() > 1 && !sameGroups("plan_matvec3_" + w0.kernelSuffix(), "matvec_" + w0.kernelSuffix())) {
            return List.of(first);
        }
        return group;
    }

    private Part groupPart(List<PlanOp.Matmul> group) {
        List<Part> singles = new ArrayList<>();
        for (PlanOp.Matmul m : group) singles.add(matmul(m));
        ClBuffer x = buffer(group.get(0).x(), "x");
        ClWeight w0 = b.weight(group.get(0).w(), "w");
        long outCols = 0;
        for (PlanOp.Matmul m : group) outCols += b.weight(m.w(), "w").rows();
        long total = outCols;
        Bound fused = new Bound("plan_matvec3_" + w0.kernelSuffix(), l -> {
            l.mem(x.mem()).l(w0.cols());
            for (int slot = 0; slot < 3; slot++) {
                PlanOp.Matmul m = group.get(Math.min(slot, group.size() - 1));
                ClWeight w = b.weight(m.w(), "w");
                // an unused slot repeats the last weight with no outputs: the kernel never reaches it
                l.mem(w.data()).mem(w.scale()).i(w.scaleStride()).l(slot < group.size() ? w.rows() : 0)
                        .mem(buffer(m.out(), "out").mem());
            }
            l.local((long) l.localSize() * Float.BYTES);
        });
        return decode(fused, g -> g.runGroups(total, 1), singles);
    }

    private boolean fusesMlpUp(PlanOp.Matmul m1, PlanOp.Matmul m3, PlanOp.Swiglu s) {
        ClWeight w1 = b.weight(m1.w(), "w"), w3 = b.weight(m3.w(), "w");
        return m1.x() == m3.x() && s.gate() == m1.out() && s.up() == m3.out() && m1.out() != m3.out()
                && m1.out() != m1.x() && m3.out() != m1.x() && s.out() != m1.x()
                && w1.block() == null && w3.block() == null && w1.kernelSuffix().equals(w3.kernelSuffix())
                && w1.rows() == s.width() && w3.rows() == s.width() && w1.cols() == w3.cols()
                && sameGroups("plan_swiglu_" + w1.kernelSuffix(), "matvec_" + w1.kernelSuffix());
    }

    private Part mlpUpPart(PlanOp.Matmul m1, PlanOp.Matmul m3, PlanOp.Swiglu s) {
        List<Part> singles = List.of(matmul(m1), matmul(m3), single(s));
        ClBuffer x = buffer(m1.x(), "x");
        ClWeight w1 = b.weight(m1.w(), "w"), w3 = b.weight(m3.w(), "w");
        Bound fused = new Bound("plan_swiglu_" + w1.kernelSuffix(), l -> l.mem(x.mem()).l(w1.cols())
                .mem(w1.data()).mem(w1.scale()).i(w1.scaleStride()).mem(w3.data()).mem(w3.scale()).i(w3.scaleStride())
                .l(s.width()).mem(buffer(s.gate(), "gate").mem()).mem(buffer(s.up(), "up").mem())
                .mem(buffer(s.out(), "out").mem()).local((long) l.localSize() * Float.BYTES));
        return decode(fused, g -> g.runGroups(s.width(), 1), singles);
    }

    /** A matmul whose output the next add sums with another buffer (the residual), written where eager writes it. */
    private boolean fusesMatmulAdd(PlanOp.Matmul m, PlanOp.Add a) {
        ClWeight w = b.weight(m.w(), "w");
        boolean first = a.a() == m.out(), second = a.bb() == m.out();
        return first != second && a.out() != m.x() && m.out() != m.x() && w.block() == null && w.rows() == a.width()
                && sameGroups("plan_matvec_add_" + w.kernelSuffix(), "matvec_" + w.kernelSuffix());
    }

    private Part matmulAddPart(PlanOp.Matmul m, PlanOp.Add a) {
        List<Part> singles = List.of(matmul(m), single(a));
        ClBuffer x = buffer(m.x(), "x"), out = buffer(m.out(), "out");
        ClWeight w = b.weight(m.w(), "w");
        boolean resFirst = a.bb() == m.out();
        ClBuffer res = buffer(resFirst ? a.a() : a.bb(), "a"), sum = buffer(a.out(), "out");
        Bound fused = new Bound("plan_matvec_add_" + w.kernelSuffix(), l -> l.mem(x.mem()).l(w.cols())
                .mem(w.data()).mem(w.scale()).i(w.scaleStride()).l(w.rows()).mem(out.mem()).mem(res.mem())
                .i(resFirst ? 1 : 0).mem(sum.mem()).local((long) l.localSize() * Float.BYTES));
        return decode(fused, g -> g.runGroups(w.rows(), 1), singles);
    }

    /** Two norms of one width, neither reading what the other writes (an Arctic layer's post and residual norms). */
    private boolean fusesNorms(PlanOp.RmsNorm n0, PlanOp.RmsNorm n1) {
        ClWeight w0 = b.weight(n0.w(), "w"), w1 = b.weight(n1.w(), "w");
        return n0.dim() == n1.dim() && n0.out() != n1.x() && n1.out() != n0.x() && n0.out() != n1.out()
                && w0.kernelSuffix().equals(w1.kernelSuffix())
                && sameGroups("plan_rmsnorm2_" + w0.kernelSuffix(), "rmsnorm_" + w0.kernelSuffix());
    }

    /** Both norms in one launch at any row count, dimension 1 of the range choosing the norm. */
    private Part norms(PlanOp.RmsNorm n0, PlanOp.RmsNorm n1) {
        rmsNorm(n0);   // the checks, and the capacity of its buffers
        rmsNorm(n1);
        ClWeight w0 = weight(n0.w(), "w"), w1 = weight(n1.w(), "w");
        ClBuffer x0 = buffer(n0.x(), "x"), o0 = buffer(n0.out(), "out"), x1 = buffer(n1.x(), "x"), o1 = buffer(n1.out(), "out");
        Bound k = new Bound("plan_rmsnorm2_" + w0.kernelSuffix(), l -> l.mem(x0.mem()).mem(w0.data()).mem(w0.scale())
                .f(n0.eps()).mem(o0.mem()).mem(x1.mem()).mem(w1.data()).mem(w1.scale()).f(n1.eps()).mem(o1.mem())
                .i(n0.dim()).local((long) l.localSize() * Float.BYTES));
        k.kernel();
        return (s, rows) -> k.from(0).runGroups(rows, 2);
    }

    /** RoPE of q and of k, then the store of k and v, where the rotated k is the one stored. */
    private boolean fusesRopeStore(PlanOp.Rope q, PlanOp.Rope k, PlanOp.StoreKv st) {
        ClKvCache c = b.cache(st.cache());
        return k.x() == st.k() && q.x() != k.x() && st.v() != q.x() && st.v() != k.x()
                && k.heads() == c.layout().kvHeads() && q.heads() >= 1;
    }

    private Part ropeStore(PlanOp.Rope q, PlanOp.Rope k, PlanOp.StoreKv st) {
        ClKvCache c = b.cache(st.cache());
        KvLayout layout = c.layout();
        b.checkLayer("storeKv", st.layer(), layout);
        int width = layout.rowWidth();
        ClBuffer qb = buffer(q.x(), "x"), kb = buffer(st.k(), "k"), vb = buffer(st.v(), "v");
        need(kb, width, "k");
        need(vb, width, "v");
        uses.add(c);
        Bound kernel = new Bound("plan_rope_store", l -> l.mem(qb.mem()).i(q.heads()).mem(kb.mem()).mem(vb.mem())
                .i(layout.kvHeads()).i(0).i(0).mem(qb.mem()).mem(qb.mem()).l(0).mem(c.keys(st.layer()))
                .mem(c.values(st.layer())));
        return (s, rows) -> {
            int headDim = s.metadata().headDim();
            if (headDim != layout.headDim()) {
                throw new IllegalArgumentException("plan: the step's headDim " + headDim + " differs from the KV cache's "
                        + layout.headDim());
            }
            b.buffer(qb, "x", (long) rows * q.heads() * headDim, "step rows x heads x headDim");
            KernelArguments.slots("storeKv", s.metadata().slots(), rows, layout);
            kernel.from(5).i(rows).i(headDim).mem(s.rotations()).mem(s.ints()).l(s.slotsOffset())
                    .run((long) rows * (q.heads() + k.heads()) * (headDim / 2));
        };
    }

    /**
     * {@code fused} for one token row, {@code singles} otherwise (the fusions are of matvec_*, decode's kernel). The
     * fused kernel is made now, so that a failure shows at compile time.
     */
    private static Part decode(Bound fused, Consumer<Launch> enqueue, List<Part> singles) {
        fused.kernel();
        return (s, rows) -> {
            if (rows == 1) {
                enqueue.accept(fused.from(0));
            } else {
                for (Part p : singles) p.run(s, rows);
            }
        };
    }

    /** Whether a fused kernel reduces over work-groups of the size its eager kernel uses (the same sums). */
    private boolean sameGroups(String fused, String eager) {
        return b.program().kernel(eager).localSize() == b.program().kernel(fused).localSize();
    }

    // ---- single operations --------------------------------------------------------------------------------------

    private Part single(PlanOp op) {
        return switch (op) {
            case PlanOp.Matmul m -> matmul(m);
            case PlanOp.Embed e -> embed(e);
            case PlanOp.RmsNorm n -> rmsNorm(n);
            case PlanOp.Rope r -> rope(r);
            case PlanOp.StoreKv st -> store(st);
            case PlanOp.Swiglu s -> elementWise("swiglu", s.gate(), s.up(), s.width(), s.out());
            case PlanOp.Add a -> elementWise("add", a.a(), a.bb(), a.width(), a.out());
            // launches that depend on the step's positions, experts resolved from the bank per pass: as eager runs them
            case PlanOp.Attention a -> {
                b.checkLayer("attention", a.layer(), b.cache(a.cache()).layout());
                yield (s, rows) -> a.run(b, s);
            }
            case PlanOp.Moe m -> (s, rows) -> m.run(b, s);
        };
    }

    private Part embed(PlanOp.Embed e) {
        ClWeight t = weight(e.table(), "table");
        ClBuffer out = buffer(e.out(), "out");
        need(out, t.cols(), "out");
        b.matmulOnly(t, "embed");
        Bound k = new Bound("embed_" + t.kernelSuffix(), l -> l.mem(t.data()).mem(t.scale()).i(t.scaleStride())
                .l(t.cols()).mem(out.mem()).l(0).mem(out.mem()));
        return (s, rows) -> {
            KernelArguments.tokenIds("embed", s.metadata().tokens(), t.rows(), t.name());
            k.from(4).mem(s.ints()).l(s.tokensOffset()).run2(t.cols(), rows);
        };
    }

    private Part rmsNorm(PlanOp.RmsNorm n) {
        if (n.dim() < 1) throw new IllegalArgumentException("rmsNorm: dim must be positive: " + n.dim());
        ClWeight w = weight(n.w(), "w");
        if (w.rows() * w.cols() != n.dim()) {
            throw new IllegalArgumentException("rmsNorm: weight " + w.name() + " has " + w.rows() * w.cols()
                    + " elements, dim is " + n.dim());
        }
        b.matmulOnly(w, "rmsNorm");
        ClBuffer x = buffer(n.x(), "x"), out = buffer(n.out(), "out");
        need(x, n.dim(), "x");
        need(out, n.dim(), "out");
        Bound k = new Bound("rmsnorm_" + w.kernelSuffix(), l -> l.mem(x.mem()).mem(w.data()).mem(w.scale())
                .f(n.eps()).i(n.dim()).mem(out.mem()).local((long) l.localSize() * Float.BYTES));
        return (s, rows) -> k.from(0).runGroups(rows, 1);
    }

    private Part matmul(PlanOp.Matmul m) {
        ClWeight w = weight(m.w(), "w");
        ClBuffer x = buffer(m.x(), "x"), out = buffer(m.out(), "out");
        if (x == out) throw new IllegalArgumentException("matmul: out must not alias x");
        need(x, w.cols(), "x");
        need(out, w.rows(), "out");
        if (w.block() != null) {
            var g = w.block();
            Bound k = new Bound("matmul_block_" + w.kernelSuffix(), l -> l.mem(x.mem()).i(0).mem(w.data()).mem(w.scale())
                    .i(g.rows()).i(g.cols()).l(g.gridCols(w.cols())).l(w.cols()).l(w.rows()).mem(out.mem())
                    .local((long) OpenClBackend.MM_ROWS * l.localSize() * Float.BYTES));
            return (s, rows) -> k.from(1).i(rows).runGroups(w.rows(), blocks(rows));
        }
        Consumer<Launch> args = l -> l.mem(x.mem()).i(0).mem(w.data()).mem(w.scale()).i(w.scaleStride()).l(w.cols())
                .l(w.rows()).mem(out.mem()).local((long) OpenClBackend.MM_ROWS * l.localSize() * Float.BYTES);
        Bound vector = new Bound("matvec_" + w.kernelSuffix(), args);
        Bound blocked = new Bound("matmul_" + w.kernelSuffix(), args);
        return (s, rows) -> {
            if (rows == 1) vector.from(1).i(1).runGroups(w.rows(), 1);
            else blocked.from(1).i(rows).runGroups(w.rows(), blocks(rows));
        };
    }

    private static long blocks(int rows) {
        return (rows + OpenClBackend.MM_ROWS - 1) / OpenClBackend.MM_ROWS;
    }

    private Part rope(PlanOp.Rope r) {
        if (r.heads() < 1) throw new IllegalArgumentException("rope: heads must be positive: " + r.heads());
        ClBuffer x = buffer(r.x(), "x");
        Bound k = new Bound("rope", l -> l.mem(x.mem()));
        return (s, rows) -> {
            int headDim = s.metadata().headDim();
            b.buffer(x, "x", (long) rows * r.heads() * headDim, "step rows x heads x headDim");
            k.from(1).i(rows).i(r.heads()).i(headDim).mem(s.rotations()).l(0)
                    .run((long) rows * r.heads() * (headDim / 2));
        };
    }

    private Part store(PlanOp.StoreKv st) {
        ClKvCache c = b.cache(st.cache());
        KvLayout layout = c.layout();
        b.checkLayer("storeKv", st.layer(), layout);
        int width = layout.rowWidth();
        ClBuffer kb = buffer(st.k(), "k"), vb = buffer(st.v(), "v");
        need(kb, width, "k");
        need(vb, width, "v");
        uses.add(c);
        Bound k = new Bound("store_kv", l -> l.mem(kb.mem()).mem(vb.mem()).mem(kb.mem()).l(0).i(0).i(width)
                .mem(c.keys(st.layer())).mem(c.values(st.layer())));
        return (s, rows) -> {
            KernelArguments.slots("storeKv", s.metadata().slots(), rows, layout);
            k.from(2).mem(s.ints()).l(s.slotsOffset()).i(rows).run((long) rows * width);
        };
    }

    private Part elementWise(String kernel, dev.floe.spi.Buffer a, dev.floe.spi.Buffer bb, int width,
                             dev.floe.spi.Buffer out) {
        if (width < 1) throw new IllegalArgumentException(kernel + ": width must be positive: " + width);
        ClBuffer ab = buffer(a, "a"), bbb = buffer(bb, "b"), ob = buffer(out, "out");
        need(ab, width, "a");
        need(bbb, width, "b");
        need(ob, width, "out");
        Bound k = new Bound(kernel, l -> l.mem(ab.mem()).mem(bbb.mem()).l(0).mem(ob.mem()));
        return (s, rows) -> k.from(2).l((long) rows * width).run((long) rows * width);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private ClBuffer buffer(dev.floe.spi.Buffer buf, String arg) {
        ClBuffer cb = b.buffer(buf, arg);
        uses.add(cb);
        return cb;
    }

    private ClWeight weight(dev.floe.spi.Weight w, String arg) {
        ClWeight cw = b.weight(w, arg);
        uses.add(cw);
        return cw;
    }

    /** Records that {@code buf} holds {@code width} floats per row: the plan runs at most its capacity in rows. */
    private void need(ClBuffer buf, long width, String arg) {
        long rows = buf.floats() / width;
        if (rows < maxRows) {
            maxRows = rows;
            limit = "argument " + arg + " (" + buf.label() + ", " + width + " floats a row)";
        }
    }

    /** A kernel object of this plan's, created with its fixed arguments on first use. */
    private final class Bound {
        private final String name;
        private final Consumer<Launch> fixed;
        private ClProgram.Kernel kernel;

        Bound(String name, Consumer<Launch> fixed) {
            this.name = name;
            this.fixed = fixed;
        }

        ClProgram.Kernel kernel() {
            if (kernel == null) {
                kernel = b.program().create(name);
                kernels.add(kernel);
                fixed.accept(new Launch(b.queue(), kernel));
            }
            return kernel;
        }

        /** A launch that sets arguments from {@code arg} on and counts as a dispatch when enqueued. */
        Launch from(int arg) {
            return b.launch(kernel(), arg);
        }
    }
}
