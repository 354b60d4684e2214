package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.ExpertRows;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.MoeTrace;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.floe.backend.opencl.OpenClTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The OpenCL fused MoE beyond what the TCK checks: how many kernels it enqueues, that nothing is read back unless
 * routing is observed, experts the runtime replaced between calls, and a bank whose experts cannot share a packed
 * format (decomposed instead). Each result is compared with the SPI 1 kernels of the same backend.
 */
class MoeTest extends OpenClTest {
    private static final int HIDDEN = 32, WIDTH = 24, EXPERTS = 6, ROWS = 3;

    /** A bank whose experts can be swapped, with the weights it placed. */
    private static final class Bank implements ExpertBank, AutoCloseable {
        final Weights[] experts = new Weights[EXPERTS];
        final List<Weight> owned = new ArrayList<>();

        Bank(Random rnd, DType... dtypes) {
            for (int x = 0; x < EXPERTS; x++) experts[x] = make(rnd, x, dtypes[x % dtypes.length]);
        }

        Weights make(Random rnd, int x, DType dtype) {
            return new Weights(place(rnd, "e" + x + ".w1", dtype, WIDTH, HIDDEN), place(rnd, "e" + x + ".w2", dtype, HIDDEN, WIDTH),
                    place(rnd, "e" + x + ".w3", dtype, WIDTH, HIDDEN));
        }

        private Weight place(Random rnd, String name, DType dtype, int rows, int cols) {
            Weight w = backend.weight(tensor(name, dtype, new long[]{rows, cols}, random(rnd, rows * cols, 0.5)));
            owned.add(w);
            return w;
        }

        @Override public int layer() { return 3; }
        @Override public int experts() { return EXPERTS; }
        @Override public Weights expert(int index) { return experts[index]; }

        @Override
        public void close() {
            owned.forEach(Weight::close);
        }
    }

    private static Weight gate(Random rnd) {
        return backend.weight(tensor("gate", DType.F32, new long[]{EXPERTS, HIDDEN}, random(rnd, EXPERTS * HIDDEN, 1)));
    }

    /** dst + the MoE block by SPI 1 kernels, experts in ascending index. */
    private static float[] decomposed(Bank bank, Buffer in, RoutingDecision d, float[] residual) {
        try (Buffer dst = upload(backend, residual); Buffer x = backend.allocate((long) ROWS * HIDDEN);
             Buffer a = backend.allocate((long) ROWS * WIDTH); Buffer u = backend.allocate((long) ROWS * WIDTH);
             Buffer o = backend.allocate((long) ROWS * HIDDEN)) {
            for (ExpertRows g : ExpertRows.of(d, EXPERTS)) {
                ExpertBank.Weights w = bank.experts[g.expert()];
                int n = g.rows().length;
                backend.gatherRows(in, HIDDEN, g.rows(), x);
                backend.matmul(x, n, w.w1(), a);
                backend.matmul(x, n, w.w3(), u);
                backend.swiglu(a, u, (long) n * WIDTH, a);
                backend.matmul(a, n, w.w2(), o);
                backend.scatterAddRows(o, HIDDEN, g.rows(), g.weights(), dst);
            }
            return download(backend, dst, ROWS * HIDDEN);
        }
    }

    private static float[] fused(Bank bank, Buffer in, Weight gate, MoeRouting routing, float[] residual, MoeTrace trace) {
        try (Buffer dst = upload(backend, residual)) {
            backend.moe(new MoeCall(in, ROWS, gate, bank, routing, dst, trace));
            return download(backend, dst, ROWS * HIDDEN);
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * max, what + " at " + i);
        }
    }

    private static void assertSameDecision(RoutingDecision expected, RoutingDecision actual) {
        assertTrue(Arrays.deepEquals(expected.experts(), actual.experts()) && Arrays.deepEquals(expected.weights(), actual.weights()),
                () -> "host " + Arrays.deepToString(expected.experts()) + Arrays.deepToString(expected.weights()) + ", device "
                        + Arrays.deepToString(actual.experts()) + Arrays.deepToString(actual.weights()));
    }

    @Test
    void deviceRoutingEnqueuesThreeKernelsAndReportsOnlyWhenObserved() {
        Random rnd = new Random(1);
        RoutingSpec spec = new RoutingSpec.SoftmaxTopK(2, true);
        float[] residual = random(rnd, ROWS * HIDDEN, 1);
        try (Bank bank = new Bank(rnd, DType.BF16); Weight gate = gate(rnd);
             Buffer in = upload(backend, random(rnd, ROWS * HIDDEN, 1)); Buffer dst = upload(backend, residual)) {
            backend.moe(new MoeCall(in, ROWS, gate, bank, new MoeRouting.OnDevice(spec), dst, null));   // packs the bank
            long before = backend.dispatches();
            backend.moe(new MoeCall(in, ROWS, gate, bank, new MoeRouting.OnDevice(spec), dst, null));
            assertEquals(3, backend.dispatches() - before, "route, up, down+combine");

            MoeTrace trace = new MoeTrace();
            float[] ours = fused(bank, in, gate, new MoeRouting.OnDevice(spec), residual, trace);
            assertNotNull(trace.decision(), "an observed call reports its routing");
            assertSameDecision(spec.route(trace.logits()), trace.decision());
            assertClose(decomposed(bank, in, trace.decision(), residual), ours, "fused against decomposed");
        }
    }

    @Test
    void hostDecisionSkipsRoutingAndPadsShortRows() {
        Random rnd = new Random(2);
        float[] residual = random(rnd, ROWS * HIDDEN, 1);
        // row 1 goes to one expert only, row 2 twice to expert 4: padding and equal ids in slot order
        RoutingDecision d = new RoutingDecision(new int[][]{{5, 0}, {3}, {4, 4}},
                new float[][]{{0.7f, 0.3f}, {1f}, {0.25f, 0.5f}});
        try (Bank bank = new Bank(rnd, DType.F8_E4M3); Buffer in = upload(backend, random(rnd, ROWS * HIDDEN, 1))) {
            float[] ours = fused(bank, in, null, new MoeRouting.Decided(d), residual, null);
            try (Buffer dst = backend.allocate((long) ROWS * HIDDEN)) {
                long before = backend.dispatches();
                backend.moe(new MoeCall(in, ROWS, null, bank, new MoeRouting.Decided(d), dst, null));
                assertEquals(2, backend.dispatches() - before, "up and down+combine");
            }
            assertClose(decomposed(bank, in, d, residual), ours, "fused against decomposed");
        }
    }

    @Test
    void replacedExpertsAreCopiedAgain() {
        Random rnd = new Random(3);
        float[] residual = random(rnd, ROWS * HIDDEN, 1);
        RoutingDecision d = new RoutingDecision(new int[][]{{1, 2}, {2, 0}, {1, 5}},
                new float[][]{{0.6f, 0.4f}, {0.5f, 0.5f}, {0.9f, 0.1f}});
        try (Bank bank = new Bank(rnd, DType.F16); Buffer in = upload(backend, random(rnd, ROWS * HIDDEN, 1))) {
            fused(bank, in, null, new MoeRouting.Decided(d), residual, null);
            bank.experts[2] = bank.make(rnd, 2, DType.F16);   // evicted and placed again, other values
            float[] ours = fused(bank, in, null, new MoeRouting.Decided(d), residual, null);
            assertClose(decomposed(bank, in, d, residual), ours, "after expert 2 was replaced");
        }
    }

    @Test
    void aBankOfMixedDtypesIsDecomposed() {
        Random rnd = new Random(4);
        float[] residual = random(rnd, ROWS * HIDDEN, 1);
        RoutingSpec spec = new RoutingSpec.SigmoidTopK(2, new double[]{0.1, -0.1, 0, 0.2, 0, -0.2});
        try (Bank bank = new Bank(rnd, DType.BF16, DType.F32); Weight gate = gate(rnd);
             Buffer in = upload(backend, random(rnd, ROWS * HIDDEN, 1))) {
            MoeTrace trace = new MoeTrace();
            float[] ours = fused(bank, in, gate, new MoeRouting.OnDevice(spec), residual, trace);
            assertNotNull(trace.decision(), "the host routing is reported too");
            assertSameDecision(spec.route(trace.logits()), trace.decision());
            assertClose(decomposed(bank, in, trace.decision(), residual), ours, "decomposed fallback");
        }
    }

    @Test
    void badCallsNameTheirFault() {
        Random rnd = new Random(5);
        try (Bank bank = new Bank(rnd, DType.BF16); Buffer in = upload(backend, random(rnd, ROWS * HIDDEN, 1));
             Buffer dst = backend.allocate((long) ROWS * HIDDEN); Weight wrongGate = backend.weight(
                     tensor("gate", DType.F32, new long[]{EXPERTS + 1, HIDDEN}, new float[(EXPERTS + 1) * HIDDEN]))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.moe(new MoeCall(in, ROWS,
                    wrongGate, bank, new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null)));
            assertTrue(e.getMessage().contains("gate gate is 7x32"), e.getMessage());
            RoutingDecision outside = new RoutingDecision(new int[][]{{0}, {6}, {1}}, new float[][]{{1}, {1}, {1}});
            e = assertThrows(IllegalArgumentException.class,
                    () -> backend.moe(new MoeCall(in, ROWS, null, bank, new MoeRouting.Decided(outside), dst, null)));
            assertTrue(e.getMessage().contains("row 1 goes to expert 6"), e.getMessage());
            try (Buffer small = backend.allocate(HIDDEN)) {
                e = assertThrows(IllegalArgumentException.class, () -> backend.moe(new MoeCall(in, ROWS, null, bank,
                        new MoeRouting.Decided(new RoutingDecision(new int[][]{{0}, {1}, {2}}, new float[][]{{1}, {1}, {1}})),
                        small, null)));
                assertTrue(e.getMessage().contains("argument dst"), e.getMessage());
            }
        }
    }
}
