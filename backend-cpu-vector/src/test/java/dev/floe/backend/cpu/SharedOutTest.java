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
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The element-wise kernels and the MoE's packing and weighted sum, shared out over the pool for a prompt's many rows,
 * give the bits the calling thread alone gives: the same inputs through a one-thread backend and a three-thread one
 * (six ranges, none a multiple of the vector length at the end).
 */
class SharedOutTest {
    private static final int ROWS = 301, DIM = 256, HEADS = 4, HEAD_DIM = 64;

    /** {@code run} on a backend of {@code threads} threads. */
    private static float[] on(int threads, Function<Backend, float[]> run) {
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()))) {
            return run.apply(b);
        }
    }

    @Test
    void elementwiseKernelsGiveTheSameBitsOnAnyNumberOfThreads() {
        assertTrue((long) ROWS * DIM >= 1 << 16, "enough elements to share out");
        Random rnd = new Random(5);
        float[] x = TestTensors.gaussian(rnd, ROWS * DIM, 3), y = TestTensors.gaussian(rnd, ROWS * DIM, 3);
        float[] gamma = TestTensors.gaussian(rnd, DIM, 1);
        int[] positions = new int[ROWS];
        for (int r = 0; r < ROWS; r++) positions[r] = 3 * r + 1;
        int n = ROWS * DIM - 7;
        Function<Backend, float[]> kernels = b -> {
            try (Buffer xb = TestTensors.upload(b, x); Buffer yb = TestTensors.upload(b, y); Buffer out = b.allocate((long) ROWS * DIM);
                 Weight norm = b.weight(TestTensors.tensor("norm", DType.F32, 1, DIM, gamma))) {
                float[] all = new float[4 * ROWS * DIM];
                b.rmsNorm(xb, norm, 1e-5f, ROWS, DIM, out);
                System.arraycopy(TestTensors.download(b, out, ROWS * DIM), 0, all, 0, ROWS * DIM);
                b.swiglu(xb, yb, n, out);
                System.arraycopy(TestTensors.download(b, out, n), 0, all, ROWS * DIM, n);
                b.add(xb, yb, n, out);
                System.arraycopy(TestTensors.download(b, out, n), 0, all, 2 * ROWS * DIM, n);
                b.rope(xb, ROWS, HEADS, HEAD_DIM, positions, 10000f);
                System.arraycopy(TestTensors.download(b, xb, ROWS * DIM), 0, all, 3 * ROWS * DIM, ROWS * DIM);
                return all;
            }
        };
        float[] alone = on(1, kernels);
        assertTrue(alone[ROWS * DIM + n - 1] != 0 && alone[3 * ROWS * DIM + 5] != x[5], "every kernel wrote its part");
        assertArrayEquals(alone, on(3, kernels));
    }

    @Test
    void moePackingAndWeightedSumGiveTheSameBitsOnAnyNumberOfThreads() {
        int experts = 6, inter = 96;
        Random rnd = new Random(11);
        float[] input = TestTensors.gaussian(rnd, ROWS * DIM, 1), residual = TestTensors.gaussian(rnd, ROWS * DIM, 1);
        List<float[]> values = new ArrayList<>();
        for (int e = 0; e < 3 * experts; e++) values.add(TestTensors.gaussian(rnd, inter * DIM, 0.5));
        int[][] chosen = new int[ROWS][];
        float[][] weights = new float[ROWS][];
        for (int r = 0; r < ROWS; r++) {
            // uneven groups: expert 0 takes every row (the GEMM), the others a share each (the dot products)
            chosen[r] = new int[]{0, 1 + (r * r) % (experts - 1)};
            weights[r] = new float[]{0.7f, 0.3f};
        }
        RoutingDecision decision = new RoutingDecision(chosen, weights);
        assertTrue(2L * ROWS * DIM >= 1 << 16 && (long) ROWS * DIM >= 1 << 16, "enough elements to share out");
        Function<Backend, float[]> moe = b -> {
            List<Weight> owned = new ArrayList<>();
            ExpertBank.Weights[] bank = new ExpertBank.Weights[experts];
            for (int e = 0; e < experts; e++) {
                Weight w1 = b.weight(TestTensors.tensor("e" + e + ".w1", DType.BF16, inter, DIM, values.get(3 * e)));
                Weight w2 = b.weight(TestTensors.tensor("e" + e + ".w2", DType.BF16, DIM, inter, values.get(3 * e + 1)));
                Weight w3 = b.weight(TestTensors.tensor("e" + e + ".w3", DType.BF16, inter, DIM, values.get(3 * e + 2)));
                owned.addAll(List.of(w1, w2, w3));
                bank[e] = new ExpertBank.Weights(w1, w2, w3);
            }
            try (Buffer in = TestTensors.upload(b, input); Buffer out = TestTensors.upload(b, residual)) {
                b.moe(new MoeCall(in, ROWS, null, TestTensors.bank(bank), new MoeRouting.Decided(decision), out, null));
                return TestTensors.download(b, out, ROWS * DIM);
            } finally {
                owned.forEach(Weight::close);
            }
        };
        float[] alone = on(1, moe);
        assertTrue(alone[0] != residual[0], "the experts added to the residual");
        assertArrayEquals(alone, on(3, moe));
    }
}
