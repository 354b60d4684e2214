package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Weight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the GEMM promises beyond accuracy (checked in {@link MatmulTest}): the same bits however it is run. */
class GemmTest {
    private static final int COLS = 2100, OUT = 150;

    private static TensorData weight(DType dtype, Random rnd) {
        TensorData t = TestTensors.tensor("w", dtype, OUT, COLS, TestTensors.gaussian(rnd, OUT * COLS, dtype.bytes() == 1 ? 100 : 0.5));
        if (dtype.bytes() != 1) return t;
        float[] s = new float[OUT];
        for (int i = 0; i < OUT; i++) s[i] = 0.001f + i * 1e-5f;
        return t.withScale(TestTensors.scale("w", s));
    }

    private static float[] run(int threads, TensorData t, float[] x, int rows) {
        try (Backend b = new CpuVectorProvider().open(new BackendOptions(threads, Map.of()));
             Weight w = b.weight(t); Buffer xb = b.allocate(x.length); Buffer yb = b.allocate((long) rows * OUT)) {
            b.upload(x, 0, xb, 0, rows * COLS);
            b.matmul(xb, rows, w, yb);
            float[] y = new float[rows * OUT];
            b.download(yb, 0, y, 0, y.length);
            return y;
        }
    }

    /** A row gives the same bits batched with 102 or 129 other rows, on one thread or two. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
    void rowsAreIndependentOfBatchAndThreads(DType dtype) {
        Random rnd = new Random(dtype.ordinal());
        TensorData t = weight(dtype, rnd);
        float[] x = TestTensors.gaussian(rnd, 130 * COLS, 1);
        float[] big = run(2, t, x, 130);
        float[] small = run(1, t, Arrays.copyOfRange(x, 27 * COLS, 130 * COLS), 103);
        assertTrue(103 >= Gemm.minRows, "both batches go through the GEMM");
        for (int r = 0; r < 103; r++) {
            for (int o = 0; o < OUT; o++) {
                int row = r, col = o;
                assertEquals(Float.floatToRawIntBits(big[(27 + r) * OUT + o]), Float.floatToRawIntBits(small[r * OUT + o]),
                        () -> dtype + " row " + row + " out " + col);
            }
        }
        assertArrayEquals(big, run(2, t, x, 130), "the same call twice");
    }

    /**
     * Below the GEMM, from four rows on (the rows an expert receives in a batch), the 4 x 4 tiles promise the same: a
     * row gives the same bits batched with 4 or 36 other rows, split over one thread or two, whatever tile it lands in.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
    void tiledRowsAreIndependentOfBatchAndThreads(DType dtype) {
        Random rnd = new Random(10 + dtype.ordinal());
        TensorData t = weight(dtype, rnd);
        float[] x = TestTensors.gaussian(rnd, 41 * COLS, 1);
        assertTrue(41 < Gemm.minRows, "both batches go through the tiles");
        float[] big = run(2, t, x, 41);
        float[] small = run(1, t, Arrays.copyOfRange(x, 35 * COLS, 41 * COLS), 6);
        for (int r = 0; r < 6; r++) {
            for (int o = 0; o < OUT; o++) {
                int row = r, col = o;
                assertEquals(Float.floatToRawIntBits(big[(35 + r) * OUT + o]), Float.floatToRawIntBits(small[r * OUT + o]),
                        () -> dtype + " row " + row + " out " + col);
            }
        }
    }

    /** Packing puts every activation where the micro-kernel expects it: permuted columns, rows side by side, zero padding. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F8_E4M3"})
    void packingFollowsThePermutation(DType dtype) {
        int lanes = Matmul.lanes(dtype), rows = 5, cols = 200;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = i + 1;
        float[] xp = new float[2 * Gemm.MR * cols];
        Arrays.fill(xp, Float.NaN);
        Gemm.packActivations(x, 0, rows, cols, lanes, xp);
        for (int r = 0; r < 2 * Gemm.MR; r++) {
            for (int e = 0; e < cols; e++) {
                int p = Matmul.permuted(e, cols, lanes);
                float got = xp[(r / Gemm.MR * cols + p) * Gemm.MR + r % Gemm.MR];
                assertEquals(r < rows ? x[r * cols + e] : 0f, got, 0f, "row " + r + " column " + e);
            }
        }
    }
}
