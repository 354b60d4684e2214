package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.Buffer;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.floe.backend.opencl.OpenClTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A compiled OpenCL plan against the same plan interpreted by the same backend: a two-layer decoder shaped as the
 * runtime records it (a dense MLP layer, then a residual MLP beside an MoE block), over passes of several row counts,
 * every buffer compared bit for bit after each pass. A second compiled plan and the eager calls run in between, so a
 * plan that shared kernel objects (their arguments are state) with either would read the other's buffers.
 */
class ClPlanTest extends OpenClTest {
    private static final int HIDDEN = 32, HEADS = 4, KV_HEADS = 2, HEAD_DIM = 8, WIDTH = 24, EXPERTS = 4, VOCAB = 13;
    private static final int BLOCK = 4, ROWS = 6;
    private static final float THETA = 10000f;

    /** Weights (made from a seed, so two models are equal), scratch buffers, a KV cache and the plan over them. */
    private static final class Model implements AutoCloseable, ExpertBank {
        final List<AutoCloseable> owned = new ArrayList<>();
        final Map<String, Buffer> buffers = new LinkedHashMap<>();
        final Weights[] experts = new Weights[EXPERTS];
        final Plan plan;

        Model(DType dtype, long seed) {
            Random rnd = new Random(seed);
            Weight embed = weight(rnd, "embed", DType.F32, VOCAB, HIDDEN);
            Buffer x = buffer("x", HIDDEN), xn = buffer("xn", HIDDEN), rn = buffer("rn", HIDDEN);
            Buffer q = buffer("q", HEADS * HEAD_DIM), k = buffer("k", KV_HEADS * HEAD_DIM), v = buffer("v", KV_HEADS * HEAD_DIM);
            Buffer att = buffer("att", HEADS * HEAD_DIM), h = buffer("h", HIDDEN);
            Buffer a = buffer("mlpA", WIDTH), u = buffer("mlpB", WIDTH), mlpOut = buffer("mlpOut", HIDDEN);
            KvCache cache = backend.kvCache(new KvLayout(2, KV_HEADS, HEAD_DIM, 16, BLOCK));
            owned.add(cache);
            for (int e = 0; e < EXPERTS; e++) {
                experts[e] = new Weights(weight(rnd, "e" + e + ".w1", dtype, WIDTH, HIDDEN),
                        weight(rnd, "e" + e + ".w2", dtype, HIDDEN, WIDTH), weight(rnd, "e" + e + ".w3", dtype, WIDTH, HIDDEN));
            }
            Weight gate = weight(rnd, "gate", DType.F32, EXPERTS, HIDDEN);
            List<PlanOp> ops = new ArrayList<>();
            ops.add(new PlanOp.Embed(embed, x));
            for (int layer = 0; layer < 2; layer++) {
                String p = "l" + layer + ".";
                ops.add(new PlanOp.RmsNorm(x, norm(rnd, p + "in"), 1e-5f, HIDDEN, xn));
                ops.add(new PlanOp.Matmul(xn, weight(rnd, p + "q", dtype, HEADS * HEAD_DIM, HIDDEN), q));
                ops.add(new PlanOp.Matmul(xn, weight(rnd, p + "k", dtype, KV_HEADS * HEAD_DIM, HIDDEN), k));
                ops.add(new PlanOp.Matmul(xn, weight(rnd, p + "v", dtype, KV_HEADS * HEAD_DIM, HIDDEN), v));
                ops.add(new PlanOp.Rope(q, HEADS));
                ops.add(new PlanOp.Rope(k, KV_HEADS));
                ops.add(new PlanOp.StoreKv(cache, layer, k, v));
                ops.add(new PlanOp.Attention(q, cache, layer, att));
                ops.add(new PlanOp.Matmul(att, weight(rnd, p + "o", dtype, HIDDEN, HEADS * HEAD_DIM), h));
                ops.add(new PlanOp.Add(x, h, HIDDEN, h));
                if (layer == 0) {
                    // dense: x = h + mlp(norm(h))
                    ops.add(new PlanOp.RmsNorm(h, norm(rnd, p + "post"), 1e-5f, HIDDEN, xn));
                    mlp(ops, rnd, p, dtype, xn, a, u, mlpOut);
                    ops.add(new PlanOp.Add(h, mlpOut, HIDDEN, x));
                } else {
                    // arctic: x = (h + mlp(norm(h))) + moe(norm(x))
                    ops.add(new PlanOp.RmsNorm(x, norm(rnd, p + "post"), 1e-5f, HIDDEN, xn));
                    ops.add(new PlanOp.RmsNorm(h, norm(rnd, p + "res"), 1e-5f, HIDDEN, rn));
                    mlp(ops, rnd, p, dtype, rn, a, u, mlpOut);
                    ops.add(new PlanOp.Add(h, mlpOut, HIDDEN, x));
                    ops.add(new PlanOp.Moe(xn, gate, this, new RoutingSpec.SoftmaxTopK(2, true), x));
                }
            }
            plan = new Plan(ops);
        }

        private void mlp(List<PlanOp> ops, Random rnd, String p, DType dtype, Buffer in, Buffer a, Buffer u, Buffer out) {
            ops.add(new PlanOp.Matmul(in, weight(rnd, p + "w1", dtype, WIDTH, HIDDEN), a));
            ops.add(new PlanOp.Matmul(in, weight(rnd, p + "w3", dtype, WIDTH, HIDDEN), u));
            ops.add(new PlanOp.Swiglu(a, u, WIDTH, a));
            ops.add(new PlanOp.Matmul(a, weight(rnd, p + "w2", dtype, HIDDEN, WIDTH), out));
        }

        private Weight weight(Random rnd, String name, DType dtype, int rows, int cols) {
            Weight w = backend.weight(tensor(name, dtype, new long[]{rows, cols}, random(rnd, rows * cols, 0.5)));
            owned.add(w);
            return w;
        }

        private Weight norm(Random rnd, String name) {
            float[] values = random(rnd, HIDDEN, 0.5);
            for (int i = 0; i < HIDDEN; i++) values[i] += 1;
            Weight w = backend.weight(tensor(name, DType.F32, new long[]{HIDDEN}, values));
            owned.add(w);
            return w;
        }

        private Buffer buffer(String name, int width) {
            Buffer b = backend.allocate((long) ROWS * width);
            owned.add(b);
            buffers.put(name, b);
            return b;
        }

        @Override public int layer() { return 1; }
        @Override public int experts() { return EXPERTS; }
        @Override public Weights expert(int index) { return experts[index]; }

        @Override
        public void close() throws Exception {
            for (AutoCloseable c : owned) c.close();
        }
    }

    /** One sequence: a prompt of five rows, a decode row, three rows, a decode row. */
    private static List<StepMetadata> passes() {
        int[][] tables = {{2, 0, 3}};
        int[][] tokens = {{3, 1, 4, 1, 5}, {9}, {2, 6, 5}, {12}};
        List<StepMetadata> out = new ArrayList<>();
        int position = 0;
        for (int[] t : tokens) {
            int[] positions = new int[t.length];
            for (int r = 0; r < t.length; r++) positions[r] = position++;
            out.add(StepMetadata.of(t, positions, new int[t.length], tables, BLOCK, HEADS, HEAD_DIM, THETA, false));
        }
        return out;
    }

    private static void assertSameBuffers(Model expected, Model actual, int rows, String what) {
        for (String name : expected.buffers.keySet()) {
            int n = (int) (rows * (expected.buffers.get(name).floats() / ROWS));
            assertArrayEquals(download(backend, expected.buffers.get(name), n), download(backend, actual.buffers.get(name), n),
                    () -> what + ": buffer " + name + " differs from eager execution");
        }
    }

    private void replaysAsEager(DType dtype) throws Exception {
        try (Model eager = new Model(dtype, 7); Model replayed = new Model(dtype, 7); Model other = new Model(dtype, 7);
             CompiledPlan plan = backend.compile(replayed.plan); CompiledPlan second = backend.compile(other.plan)) {
            for (StepMetadata m : passes()) {
                try (Step step = backend.step(m)) {
                    second.run(step);
                    eager.plan.interpret(backend, step);
                    plan.run(step);
                }
                String what = dtype + ", " + m.rows() + "-row pass";
                assertSameBuffers(eager, replayed, m.rows(), what);
                assertSameBuffers(eager, other, m.rows(), what + " (second plan)");
            }
        }
    }

    @Test
    void replayGivesEagerNumbersBitForBitF32() throws Exception {
        replaysAsEager(DType.F32);
    }

    @Test
    void replayGivesEagerNumbersBitForBitBf16() throws Exception {
        replaysAsEager(DType.BF16);
    }

    @Test
    void replayGivesEagerNumbersBitForBitFp8() throws Exception {
        replaysAsEager(DType.F8_E4M3);
    }

    @Test
    void decodeReplayFusesLaunches() throws Exception {
        try (Model model = new Model(DType.BF16, 3); CompiledPlan plan = backend.compile(model.plan);
             Step prompt = backend.step(passes().get(0)); Step decode = backend.step(passes().get(1))) {
            model.plan.interpret(backend, prompt);   // packs the expert bank: later MoE calls copy nothing
            long before = backend.dispatches();
            model.plan.interpret(backend, decode);
            long eager = backend.dispatches() - before;
            before = backend.dispatches();
            plan.run(decode);
            long replayed = backend.dispatches() - before;
            assertEquals(37, eager, "eager: one launch per operation, three per MoE block");
            // embed; per layer norm, q/k/v, rope+store, attention, o+add, norm(s), gate/up+swiglu, down+add; MoE 3
            assertEquals(20, replayed, "replayed decode launches");
        }
    }

    @Test
    void closeIsIdempotentAndAClosedPlanRefusesToRun() throws Exception {
        try (Model model = new Model(DType.F32, 5); Step step = backend.step(passes().get(0))) {
            CompiledPlan plan = backend.compile(model.plan);
            plan.run(step);
            plan.close();
            plan.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> plan.run(step));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void aStepLongerThanThePlansBuffersIsRefused() throws Exception {
        int[] tokens = new int[ROWS + 1], positions = new int[ROWS + 1];
        for (int r = 0; r < tokens.length; r++) positions[r] = r;
        StepMetadata tooLong = StepMetadata.of(tokens, positions, new int[tokens.length], new int[][]{{0, 1}}, BLOCK,
                HEADS, HEAD_DIM, THETA, false);
        try (Model model = new Model(DType.F32, 5); CompiledPlan plan = backend.compile(model.plan);
             Step step = backend.step(tooLong)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(step));
            assertTrue(e.getMessage().contains("7 rows exceeds the 6 rows"), e.getMessage());
        }
    }

    @Test
    void aPlanWhoseBufferWasClosedRefusesToRun() throws Exception {
        try (Model model = new Model(DType.F32, 5); CompiledPlan plan = backend.compile(model.plan);
             Step step = backend.step(passes().get(1))) {
            model.buffers.get("att").close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> plan.run(step));
            assertTrue(e.getMessage().contains("buffer of " + ROWS * HEADS * HEAD_DIM + " floats"), e.getMessage());
        }
    }
}
