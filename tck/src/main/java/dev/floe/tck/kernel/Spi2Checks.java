package dev.floe.tck.kernel;

import dev.floe.api.DType;
import dev.floe.api.RopeScaling;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.MoeTrace;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.SpiVersion;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.kernel.Inputs.Scaling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static dev.floe.tck.kernel.Inputs.download;
import static dev.floe.tck.kernel.Inputs.gaussian;
import static dev.floe.tck.kernel.Inputs.upload;

/**
 * The optional operations of SPI 2, each against the SPI 1 kernels of the same backend (which the kernel checks hold
 * to the float64 oracle): the fused MoE against its decomposition for every built-in routing rule and weight dtype,
 * device routing against the rule's host reference (exactly the same experts, ties included), a compiled plan against
 * eager interpretation, and one step's metadata reused across layers and passes. A check is skipped when the backend
 * does not implement the capability (the runtime then decomposes the operation itself).
 */
public final class Spi2Checks {
    static final String CATEGORY = "spi2";
    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};
    /** Fused and decomposed differ only in how the backend slices its dot products. */
    private static final double MOE_TOLERANCE = 1e-4;
    private static final int HIDDEN = 64, INTER = 96, EXPERTS = 8, ROWS = 6;

    private Spi2Checks() {
    }

    /** The rules routers can hand to a device, with the names the checks use. */
    private record Rule(String label, RoutingSpec spec) {
    }

    private static List<Rule> rules() {
        // experts 1 and 2 share a bias (and, in the routing checks, a gate row) so that their keys tie exactly
        double[] bias = {-0.05, 0.02, 0.02, 0.05, -0.05, 0.0, 0.03, -0.02};
        return List.of(new Rule("softmax-topk.renormalised", new RoutingSpec.SoftmaxTopK(2, true)),
                new Rule("softmax-topk.raw", new RoutingSpec.SoftmaxTopK(2, false)),
                new Rule("sigmoid-topk.bias", new RoutingSpec.SigmoidTopK(2, bias)));
    }

    public static List<Check> all() {
        List<Check> checks = new ArrayList<>();
        for (Rule rule : rules()) {
            for (DType dtype : DTYPES) {
                String name = "spi2.moe." + rule.label() + "." + KernelChecks.label(dtype);
                checks.add(new Check(CATEGORY, name, ctx -> fusedMoe(ctx, name, dtype, rule.spec())));
            }
            String routing = "spi2.moe.device-routing." + rule.label();
            checks.add(new Check(CATEGORY, routing, ctx -> deviceRouting(ctx, routing, rule.spec())));
        }
        // experts with block scales (DeepSeek-V3 style), ragged in both projections: w1/w3 96x64, w2 64x96
        ScaleLayout.Block blocks = new ScaleLayout.Block(32, 48);
        for (DType dtype : new DType[]{DType.F8_E4M3, DType.F8_E5M2}) {
            String name = "spi2.moe.softmax-topk.renormalised." + KernelChecks.label(dtype) + ".block-32x48";
            checks.add(new Check(CATEGORY, name, ctx -> fusedMoe(ctx, name, dtype, new RoutingSpec.SoftmaxTopK(2, true), blocks)));
        }
        String decided = "spi2.moe.host-decision.bf16";
        checks.add(new Check(CATEGORY, decided, ctx -> fusedMoe(ctx, decided, DType.BF16, null)));
        checks.add(new Check(CATEGORY, "spi2.plan.replay", ctx -> planReplay(ctx, "spi2.plan.replay")));
        checks.add(new Check(CATEGORY, "spi2.metadata.reuse", ctx -> metadataReuse(ctx, "spi2.metadata.reuse")));
        for (RopeScaling scaling : SCALINGS) {
            String rope = "spi2.rope.scaled-rows." + scaling.type();
            checks.add(new Check(CATEGORY, rope, ctx -> scaledRope(ctx, rope, scaling)));
        }
        return checks;
    }

    private static void require(Backend b, Capability c) {
        if (!SpiVersion.effectiveCapabilities(b).contains(c)) {
            throw new Check.Skip("the backend does not implement " + c.id() + ": the runtime decomposes it into SPI 1 kernels");
        }
    }

    // ---- the MoE operation

    /** Experts, gate and inputs of one MoE block on a backend. */
    private static final class Block implements AutoCloseable, ExpertBank {
        final Backend b;
        final List<Weight> owned = new ArrayList<>();
        final Weight gate;
        final Weights[] experts = new Weights[EXPERTS];
        final float[] input;

        Block(Backend b, SplittableRandom random, DType dtype, boolean ties) {
            this(b, random, dtype, ties, null);
        }

        /** Experts with a grid of {@code blocks} scales when that is not null. */
        Block(Backend b, SplittableRandom random, DType dtype, boolean ties, ScaleLayout.Block blocks) {
            this.b = b;
            Scaling scaling = KernelChecks.isFp8(dtype) ? Scaling.SCALAR : Scaling.NONE;
            float[] g = gaussian(random, EXPERTS * HIDDEN, 1);
            // experts 1 and 2 share a gate row: their logits tie exactly, and the lower index must come first
            if (ties) System.arraycopy(g, HIDDEN, g, 2 * HIDDEN, HIDDEN);
            gate = place(new dev.floe.tck.oracle.OracleWeight("tck.moe.gate", DType.F32, EXPERTS, HIDDEN, bytes(g), null));
            for (int e = 0; e < EXPERTS; e++) {
                experts[e] = new Weights(expert(random, "tck.moe." + e + ".w1", dtype, INTER, HIDDEN, scaling, blocks),
                        expert(random, "tck.moe." + e + ".w2", dtype, HIDDEN, INTER, scaling, blocks),
                        expert(random, "tck.moe." + e + ".w3", dtype, INTER, HIDDEN, scaling, blocks));
            }
            input = gaussian(random, ROWS * HIDDEN, 1);
            if (ties) {
                // odd rows point along the shared gate row, so the tied experts are the two best
                for (int r = 1; r < ROWS; r += 2) System.arraycopy(g, HIDDEN, input, r * HIDDEN, HIDDEN);
            }
        }

        private Weight expert(SplittableRandom random, String name, DType dtype, int rows, int cols, Scaling scaling,
                              ScaleLayout.Block blocks) {
            if (blocks == null) return place(Inputs.weight(random, name, dtype, rows, cols, scaling));
            Weight placed = b.weight(BlockScaleChecks.weight(random, name, dtype, rows, cols, blocks).tensor(false), blocks);
            owned.add(placed);
            return placed;
        }

        private Weight place(dev.floe.tck.oracle.OracleWeight w) {
            Weight placed = b.weight(w.tensor(false));
            owned.add(placed);
            return placed;
        }

        @Override public int layer() { return 0; }
        @Override public int experts() { return EXPERTS; }
        @Override public Weights expert(int index) { return experts[index]; }

        @Override
        public void close() {
            owned.forEach(Weight::close);
        }
    }

    private static byte[] bytes(float[] f) {
        byte[] out = new byte[f.length * 4];
        for (int i = 0; i < f.length; i++) Inputs.putLe(out, i * 4, Float.floatToRawIntBits(f[i]), 4);
        return out;
    }

    /** The router logits {@code [rows][experts]} by the SPI 1 matmul. */
    private static float[][] logits(Backend b, Block block, Buffer in) {
        try (Buffer out = b.allocate((long) ROWS * EXPERTS)) {
            b.matmul(in, ROWS, block.gate, out);
            float[] flat = download(b, out, ROWS * EXPERTS);
            float[][] rows = new float[ROWS][];
            for (int r = 0; r < ROWS; r++) rows[r] = Arrays.copyOfRange(flat, r * EXPERTS, (r + 1) * EXPERTS);
            return rows;
        }
    }

    /** The MoE block by SPI 1 kernels: gather, three matmuls, SwiGLU, weighted scatter-add, experts ascending. */
    private static void decomposed(Backend b, Block block, Buffer in, RoutingDecision d, Buffer dst) {
        try (Buffer x = b.allocate((long) ROWS * HIDDEN); Buffer a = b.allocate((long) ROWS * INTER);
             Buffer u = b.allocate((long) ROWS * INTER); Buffer o = b.allocate((long) ROWS * HIDDEN)) {
            for (int e = 0; e < EXPERTS; e++) {
                List<Integer> rows = new ArrayList<>();
                List<Float> scales = new ArrayList<>();
                for (int r = 0; r < d.tokens(); r++) {
                    for (int j = 0; j < d.experts()[r].length; j++) {
                        if (d.experts()[r][j] == e) {
                            rows.add(r);
                            scales.add(d.weights()[r][j]);
                        }
                    }
                }
                if (rows.isEmpty()) continue;
                int n = rows.size();
                int[] idx = rows.stream().mapToInt(Integer::intValue).toArray();
                float[] sc = new float[n];
                for (int i = 0; i < n; i++) sc[i] = scales.get(i);
                b.gatherRows(in, HIDDEN, idx, x);
                b.matmul(x, n, block.experts[e].w1(), a);
                b.matmul(x, n, block.experts[e].w3(), u);
                b.swiglu(a, u, (long) n * INTER, a);
                b.matmul(a, n, block.experts[e].w2(), o);
                b.scatterAddRows(o, HIDDEN, idx, sc, dst);
            }
        }
    }

    static Measurement fusedMoe(TckContext ctx, String name, DType dtype, RoutingSpec spec) {
        return fusedMoe(ctx, name, dtype, spec, null);
    }

    static Measurement fusedMoe(TckContext ctx, String name, DType dtype, RoutingSpec spec, ScaleLayout.Block blocks) {
        Backend b = ctx.backend();
        require(b, Capability.FUSED_MOE);
        KernelChecks.requireDtype(ctx, dtype);
        if (blocks != null) BlockScaleChecks.requireBlockScales(b);
        SplittableRandom random = ctx.random(name);
        float[] residual = gaussian(random, ROWS * HIDDEN, 1);
        try (Block block = new Block(b, random, dtype, false, blocks); Buffer in = upload(b, block.input);
             Buffer fusedOut = upload(b, residual); Buffer reference = upload(b, residual)) {
            float[][] logits = logits(b, block, in);
            RoutingDecision d = spec != null ? spec.route(logits) : new RoutingSpec.SoftmaxTopK(3, false).route(logits);
            MoeRouting routing = spec != null ? new MoeRouting.OnDevice(spec) : new MoeRouting.Decided(d);
            b.moe(new MoeCall(in, ROWS, block.gate, block, routing, fusedOut, null));
            decomposed(b, block, in, d, reference);
            float[] ours = download(b, fusedOut, ROWS * HIDDEN);
            float[] ref = download(b, reference, ROWS * HIDDEN);
            Compare.Error e = Compare.relativeToMax(ours, toDoubles(ref));
            return Measurement.ofError(e.value(), MOE_TOLERANCE, "fused against decomposed, " + e.where());
        }
    }

    static Measurement deviceRouting(TckContext ctx, String name, RoutingSpec spec) {
        Backend b = ctx.backend();
        require(b, Capability.FUSED_MOE);
        SplittableRandom random = ctx.random(name);
        try (Block block = new Block(b, random, DType.F32, true); Buffer in = upload(b, block.input);
             Buffer out = b.allocate((long) ROWS * HIDDEN)) {
            MoeTrace trace = new MoeTrace();
            b.moe(new MoeCall(in, ROWS, block.gate, block, new MoeRouting.OnDevice(spec), out, trace));
            if (trace.decision() == null || trace.logits() == null) {
                return Measurement.ofCondition(false, "the backend did not report its routing to the trace");
            }
            float[][] hostLogits = logits(b, block, in);
            double worst = 0;
            for (int r = 0; r < ROWS; r++) {
                for (int e = 0; e < EXPERTS; e++) worst = Math.max(worst, Math.abs(trace.logits()[r][e] - hostLogits[r][e]));
            }
            if (worst > 1e-3) return Measurement.ofError(worst, 1e-3, "reported logits differ from the gate matmul");
            RoutingDecision host = spec.route(trace.logits());
            int mismatches = 0;
            String first = null;
            for (int r = 0; r < ROWS; r++) {
                boolean same = Arrays.equals(host.experts()[r], trace.decision().experts()[r]);
                float[] hw = host.weights()[r], dw = trace.decision().weights()[r];
                for (int j = 0; same && j < hw.length; j++) same = Math.abs(hw[j] - dw[j]) <= 1e-6 * Math.max(1, Math.abs(hw[j]));
                if (!same) {
                    mismatches++;
                    if (first == null) first = "row " + r + ": device " + Arrays.toString(trace.decision().experts()[r])
                            + Arrays.toString(dw) + ", host " + Arrays.toString(host.experts()[r]) + Arrays.toString(hw);
                }
            }
            return Measurement.ofMismatches(mismatches, first == null ? ROWS + " rows (tied experts included) routed as the host rule routes them" : first);
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }

    // ---- plans and metadata

    private static final int HEADS = 4, KV_HEADS = 2, HEAD_DIM = 16, BLOCK = 4, VOCAB = 11;
    private static final float THETA = 10000f;

    /** A one-layer decoder's weights and buffers on a backend, and the plan over them. */
    private static final class Layer implements AutoCloseable {
        final Backend b;
        final List<AutoCloseable> owned = new ArrayList<>();
        final Block block;
        final Weight embed, norm, wq, wk, wv, wo;
        final Buffer x, xn, q, k, v, att, h;
        final KvCache cache;
        final Plan plan;

        Layer(Backend b, long seed) {
            this.b = b;
            SplittableRandom random = new SplittableRandom(seed);
            block = new Block(b, random, DType.BF16, false);
            embed = weight(random, "tck.plan.embed", VOCAB, HIDDEN);
            norm = weight(random, "tck.plan.norm", 1, HIDDEN);
            wq = weight(random, "tck.plan.q", HEADS * HEAD_DIM, HIDDEN);
            wk = weight(random, "tck.plan.k", KV_HEADS * HEAD_DIM, HIDDEN);
            wv = weight(random, "tck.plan.v", KV_HEADS * HEAD_DIM, HIDDEN);
            wo = weight(random, "tck.plan.o", HIDDEN, HEADS * HEAD_DIM);
            x = buffer(ROWS * HIDDEN);
            xn = buffer(ROWS * HIDDEN);
            q = buffer(ROWS * HEADS * HEAD_DIM);
            k = buffer(ROWS * KV_HEADS * HEAD_DIM);
            v = buffer(ROWS * KV_HEADS * HEAD_DIM);
            att = buffer(ROWS * HEADS * HEAD_DIM);
            h = buffer(ROWS * HIDDEN);
            cache = b.kvCache(new KvLayout(2, KV_HEADS, HEAD_DIM, 8, BLOCK));
            owned.add(cache);
            List<PlanOp> ops = new ArrayList<>();
            ops.add(new PlanOp.Embed(embed, x));
            for (int layer = 0; layer < 2; layer++) {
                ops.add(new PlanOp.RmsNorm(x, norm, 1e-5f, HIDDEN, xn));
                ops.add(new PlanOp.Matmul(xn, wq, q));
                ops.add(new PlanOp.Matmul(xn, wk, k));
                ops.add(new PlanOp.Matmul(xn, wv, v));
                ops.add(new PlanOp.Rope(q, HEADS));
                ops.add(new PlanOp.Rope(k, KV_HEADS));
                ops.add(new PlanOp.StoreKv(cache, layer, k, v));
                ops.add(new PlanOp.Attention(q, cache, layer, att));
                ops.add(new PlanOp.Matmul(att, wo, h));
                ops.add(new PlanOp.Add(x, h, HIDDEN, h));
                ops.add(new PlanOp.RmsNorm(h, norm, 1e-5f, HIDDEN, xn));
                ops.add(new PlanOp.Swiglu(xn, h, HIDDEN, x));
                ops.add(new PlanOp.Moe(xn, block.gate, block, new RoutingSpec.SoftmaxTopK(2, true), x));
            }
            plan = new Plan(ops);
        }

        private Weight weight(SplittableRandom random, String name, int rows, int cols) {
            Weight w = b.weight(Inputs.weight(random, name, DType.F32, rows, cols, Scaling.NONE).tensor(rows == 1));
            owned.add(w);
            return w;
        }

        private Buffer buffer(int floats) {
            Buffer buf = b.allocate(floats);
            owned.add(buf);
            return buf;
        }

        @Override
        public void close() {
            block.close();
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // a check's cleanup; the backend is closed after the kit anyway
                }
            }
        }
    }

    /** Two passes of one sequence: a prompt of {@code ROWS} tokens, then one decode token. */
    private static List<StepMetadata> passes() {
        int[][] tables = {{5, 2, 7}};
        int[] prompt = {3, 1, 4, 1, 5, 9};
        int[] positions = {0, 1, 2, 3, 4, 5};
        return List.of(StepMetadata.of(prompt, positions, new int[ROWS], tables, BLOCK, HEADS, HEAD_DIM, THETA, false),
                StepMetadata.of(new int[]{2}, new int[]{6}, new int[1], tables, BLOCK, HEADS, HEAD_DIM, THETA, false));
    }

    static Measurement planReplay(TckContext ctx, String name) {
        Backend b = ctx.backend();
        require(b, Capability.PLANS);
        require(b, Capability.STEP_METADATA);
        require(b, Capability.FUSED_MOE);
        long seed = ctx.random(name).nextLong();
        try (Layer eager = new Layer(b, seed); Layer replayed = new Layer(b, seed);
             CompiledPlan compiled = b.compile(replayed.plan)) {
            double worst = 0;
            String where = "";
            for (StepMetadata m : passes()) {
                try (Step s1 = b.step(m); Step s2 = b.step(m)) {
                    eager.plan.interpret(b, s1);
                    compiled.run(s2);
                }
                int n = m.rows() * HIDDEN;
                Compare.Error e = Compare.relativeToMax(download(b, replayed.x, n), toDoubles(download(b, eager.x, n)));
                if (!(e.value() <= worst)) {
                    worst = e.value();
                    where = m.rows() + "-row pass: " + e.where();
                }
            }
            return Measurement.ofError(worst, MOE_TOLERANCE, "replayed plan against eager interpretation over two passes; " + where);
        }
    }

    /** One of each rope_scaling type, with a trained context of 32 positions that the rows of the check pass. */
    private static final List<RopeScaling> SCALINGS = List.of(new RopeScaling.Linear(4), new RopeScaling.Dynamic(4, 32),
            new RopeScaling.Yarn(4, 32, 32, 1, 0, 0, Double.NaN, true), new RopeScaling.Llama3(4, 1, 4, 32));

    /**
     * {@code rope(x, heads, step)} rotates by the step's rows, whatever they hold: rows of a scaled RoPE (YaRN's are
     * not even unit vectors; dynamic NTK gives two sequences of one pass different frequencies) against the float64
     * rotation by exactly those rows. A backend that recomputes angles from {@code ropeTheta} fails.
     */
    static Measurement scaledRope(TckContext ctx, String name, RopeScaling scaling) {
        Backend b = ctx.backend();
        require(b, Capability.STEP_METADATA);
        SplittableRandom random = ctx.random(name);
        // sequence 0: six rows at positions 90..95 (length 96, three times the trained 32); sequence 1: position 3
        int[] positions = {90, 91, 92, 93, 94, 95, 3}, sequence = {0, 0, 0, 0, 0, 0, 1};
        int[][] tables = {java.util.stream.IntStream.range(0, 96 / BLOCK).toArray(), {96 / BLOCK}};
        StepMetadata m = StepMetadata.of(new int[positions.length], positions, sequence, tables, BLOCK, HEADS, HEAD_DIM,
                THETA, scaling, false);
        int rows = positions.length, width = HEADS * HEAD_DIM, half = HEAD_DIM / 2;
        float[] x = gaussian(random, rows * width, 1);
        double[] ref = new double[x.length], magnitude = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < HEADS; h++) {
                for (int j = 0; j < half; j++) {
                    int i = r * width + h * HEAD_DIM + j;
                    double c = m.cos(r, j), s = m.sin(r, j), a = x[i], o = x[i + half];
                    ref[i] = a * c - o * s;
                    ref[i + half] = o * c + a * s;
                    magnitude[i] = magnitude[i + half] = (Math.abs(a) + Math.abs(o)) * Math.max(Math.abs(c), Math.abs(s));
                }
            }
        }
        try (Buffer bx = upload(b, x); Step step = b.step(m)) {
            b.rope(bx, HEADS, step);
            Compare.Error e = Compare.conditioned(download(b, bx, x.length), ref, magnitude);
            // the rows are given: only the float32 products and sum remain
            return Measurement.ofError(e.value(), 1e-6, "rotation by the step's " + scaling.type() + " rows; "
                    + e.where(Compare.Layout.of("row", rows, "head", HEADS, "dim", HEAD_DIM)));
        }
    }

    static Measurement metadataReuse(TckContext ctx, String name) {
        Backend b = ctx.backend();
        require(b, Capability.STEP_METADATA);
        long seed = ctx.random(name).nextLong();
        try (Layer withStep = new Layer(b, seed); Layer withArrays = new Layer(b, seed)) {
            double worst = 0;
            String where = "";
            for (StepMetadata m : passes()) {
                int rows = m.rows();
                try (Step step = b.step(m)) {
                    b.embed(withStep.embed, step, withStep.x);
                    b.embed(withArrays.embed, m.tokens(), withArrays.x);
                    // the same step serves both layers: nothing in it may be consumed by the first
                    for (int layer = 0; layer < 2; layer++) {
                        for (Layer l : List.of(withStep, withArrays)) {
                            b.rmsNorm(l.x, l.norm, 1e-5f, rows, HIDDEN, l.xn);
                            b.matmul(l.xn, rows, l.wq, l.q);
                            b.matmul(l.xn, rows, l.wk, l.k);
                            b.matmul(l.xn, rows, l.wv, l.v);
                        }
                        b.rope(withStep.q, HEADS, step);
                        b.rope(withStep.k, KV_HEADS, step);
                        b.storeKv(withStep.cache, layer, withStep.k, withStep.v, step);
                        b.attention(withStep.q, withStep.cache, layer, step, withStep.att);
                        b.rope(withArrays.q, rows, HEADS, HEAD_DIM, m.positions(), THETA);
                        b.rope(withArrays.k, rows, KV_HEADS, HEAD_DIM, m.positions(), THETA);
                        b.storeKv(withArrays.cache, layer, withArrays.k, withArrays.v, rows, m.slots());
                        b.attention(withArrays.q, withArrays.cache, layer, m.attentionBatch(), withArrays.att);
                        for (Layer l : List.of(withStep, withArrays)) {
                            b.matmul(l.att, rows, l.wo, l.h);
                            b.add(l.x, l.h, (long) rows * HIDDEN, l.x);
                        }
                        int n = rows * HIDDEN;
                        Compare.Error e = Compare.relativeToMax(download(b, withStep.x, n), toDoubles(download(b, withArrays.x, n)));
                        if (!(e.value() <= worst)) {
                            worst = e.value();
                            where = rows + "-row pass, layer " + layer + ": " + e.where();
                        }
                    }
                }
            }
            // the SPI 1 rope computes its own angles; the step's rows are the runtime's float32 ones
            return Measurement.ofError(worst, 1e-5, "one step per pass, reused by two layers, against SPI 1 arrays; " + where);
        }
    }

}
