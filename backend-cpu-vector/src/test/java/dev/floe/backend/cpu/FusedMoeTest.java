package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.RoutingDecision;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.Weight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused MoE with an expert that receives enough rows for the GEMM (tasks of whole panels over its intermediate
 * and hidden widths, partial panels and column tails) and experts below it, against the same block by SPI 1 kernels.
 */
class FusedMoeTest {
    private static final int HIDDEN = 160, INTER = 200, EXPERTS = 6, ROWS = 100;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F8_E4M3"})
    void gemmExpertsMatchTheDecomposition(DType dtype) {
        assertTrue(ROWS >= Gemm.minRows, "expert 0 receives every row: the GEMM");
        assertTrue(ROWS / 5 < Gemm.minRows, "experts 1-5 receive a fifth each: the dot products");
        Random rnd = new Random(dtype.ordinal());
        int[][] chosen = new int[ROWS][];
        float[][] weights = new float[ROWS][];
        for (int r = 0; r < ROWS; r++) {
            chosen[r] = new int[]{0, 1 + r % 5};
            weights[r] = new float[]{0.625f, 0.375f};
        }
        RoutingDecision decision = new RoutingDecision(chosen, weights);
        float range = dtype.bytes() == 1 ? 100f : 0.5f;
        float[] input = TestTensors.gaussian(rnd, ROWS * HIDDEN, 1);
        float[] residual = TestTensors.gaussian(rnd, ROWS * HIDDEN, 1);
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(2, Map.of()))) {
            List<Weight> owned = new ArrayList<>();
            ExpertBank.Weights[] experts = new ExpertBank.Weights[EXPERTS];
            for (int e = 0; e < EXPERTS; e++) {
                Weight w1 = b.weight(scaled(TestTensors.tensor("e" + e + ".w1", dtype, INTER, HIDDEN, TestTensors.gaussian(rnd, INTER * HIDDEN, range)), dtype, INTER));
                Weight w2 = b.weight(scaled(TestTensors.tensor("e" + e + ".w2", dtype, HIDDEN, INTER, TestTensors.gaussian(rnd, HIDDEN * INTER, range)), dtype, HIDDEN));
                Weight w3 = b.weight(scaled(TestTensors.tensor("e" + e + ".w3", dtype, INTER, HIDDEN, TestTensors.gaussian(rnd, INTER * HIDDEN, range)), dtype, INTER));
                owned.addAll(List.of(w1, w2, w3));
                experts[e] = new ExpertBank.Weights(w1, w2, w3);
            }
            ExpertBank bank = TestTensors.bank(experts);
            float[] fused, reference;
            try (Buffer in = b.allocate((long) ROWS * HIDDEN); Buffer out = b.allocate((long) ROWS * HIDDEN);
                 Buffer ref = b.allocate((long) ROWS * HIDDEN)) {
                b.upload(input, 0, in, 0, input.length);
                b.upload(residual, 0, out, 0, residual.length);
                b.upload(residual, 0, ref, 0, residual.length);
                b.moe(new MoeCall(in, ROWS, null, bank, new MoeRouting.Decided(decision), out, null));
                decomposed(b, experts, in, decision, ref);
                fused = new float[ROWS * HIDDEN];
                reference = new float[ROWS * HIDDEN];
                b.download(out, 0, fused, 0, fused.length);
                b.download(ref, 0, reference, 0, reference.length);
            } finally {
                owned.forEach(Weight::close);
            }
            double max = 0, worst = 0;
            for (float v : reference) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < fused.length; i++) worst = Math.max(worst, Math.abs(fused[i] - reference[i]));
            assertTrue(max > 1, "the experts add something: largest output " + max);
            assertTrue(worst <= 1e-5 * max, dtype + ": largest difference " + worst + " against outputs up to " + max);
        }
    }

    private static dev.floe.api.TensorData scaled(dev.floe.api.TensorData t, DType dtype, int rows) {
        if (dtype.bytes() != 1) return t;
        float[] s = new float[rows];
        for (int i = 0; i < rows; i++) s[i] = 0.002f + i * 1e-5f;
        return t.withScale(TestTensors.scale(t.name(), s));
    }

    /** Gather, three matmuls, SwiGLU and weighted scatter-add per expert, ascending. */
    private static void decomposed(Backend b, ExpertBank.Weights[] experts, Buffer in, RoutingDecision d, Buffer dst) {
        try (Buffer x = b.allocate((long) ROWS * HIDDEN); Buffer a = b.allocate((long) ROWS * INTER);
             Buffer u = b.allocate((long) ROWS * INTER); Buffer o = b.allocate((long) ROWS * HIDDEN)) {
            for (int e = 0; e < EXPERTS; e++) {
                List<Integer> rows = new ArrayList<>();
                List<Float> scales = new ArrayList<>();
                for (int r = 0; r < ROWS; r++) {
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
                b.matmul(x, n, experts[e].w1(), a);
                b.matmul(x, n, experts[e].w3(), u);
                b.swiglu(a, u, (long) n * INTER, a);
                b.matmul(a, n, experts[e].w2(), o);
                b.scatterAddRows(o, HIDDEN, idx, sc, dst);
            }
        }
    }
}
