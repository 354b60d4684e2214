package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Weight;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;
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
     * row gives the same bits batched with 5 or 30 other rows, split over one thread or two, whatever tile it lands in.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
    void tiledRowsAreIndependentOfBatchAndThreads(DType dtype) {
        Random rnd = new Random(10 + dtype.ordinal());
        TensorData t = weight(dtype, rnd);
        float[] x = TestTensors.gaussian(rnd, 31 * COLS, 1);
        assertTrue(31 < Gemm.minRows, "both batches go through the tiles");
        float[] big = run(2, t, x, 31);
        float[] small = run(1, t, Arrays.copyOfRange(x, 25 * COLS, 31 * COLS), 6);
        for (int r = 0; r < 6; r++) {
            for (int o = 0; o < OUT; o++) {
                int row = r, col = o;
                assertEquals(Float.floatToRawIntBits(big[(25 + r) * OUT + o]), Float.floatToRawIntBits(small[r * OUT + o]),
                        () -> dtype + " row " + row + " out " + col);
            }
        }
    }

    /**
     * Packing puts every activation where the micro-kernels expect it: permuted columns, the rows of a block side by
     * side, a full block then a last block one vector wide, zero padding.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F8_E4M3"})
    void packingFollowsThePermutation(DType dtype) {
        int lanes = Matmul.lanes(dtype), rows = Gemm.XR + 5, cols = 200;
        assertEquals(Gemm.XR + Matmul.VL, Gemm.paddedRows(rows), "a last block of 5 rows is one vector wide");
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = i + 1;
        float[] xp = new float[Gemm.paddedRows(rows) * cols];
        Arrays.fill(xp, Float.NaN);
        Gemm.packActivations(x, 0, rows, cols, lanes, xp);
        for (int r = 0; r < Gemm.paddedRows(rows); r++) {
            int r0 = r / Gemm.XR * Gemm.XR, width = Gemm.blockWidth(rows, r0);
            for (int e = 0; e < cols; e++) {
                int p = Matmul.permuted(e, cols, lanes);
                float got = xp[r0 * cols + p * width + r - r0];
                assertEquals(r < rows ? x[r * cols + e] : 0f, got, 0f, "row " + r + " column " + e);
            }
        }
    }

    /** One micro-kernel: its weight rows, its vectors of activation rows, and the call. */
    private record Kernel(String name, int weights, int vectors, Call call) {
        interface Call {
            void run(float[] xp, int xo, float[] panel, int po, int n, float[] acc, int ao, int stride, boolean first);
        }
    }

    /**
     * Every micro-kernel, those of the other register file too (AVX-512 and AVX2 each run only their own in the matmul
     * tests), continues each output as one FMA chain over the columns in order: the bits of {@link Math#fma}.
     */
    @Test
    void everyMicroKernelIsOneFmaChainPerOutput() {
        int vl = Matmul.VL, n = 37, stride = 4 * vl + 3, xo = 5, po = 7, ao = 2;
        for (Kernel k : List.of(new Kernel("6x4", 6, 4, Gemm::tile6x4), new Kernel("4x4", 4, 4, Gemm::tile4x4),
                new Kernel("8x3", 8, 3, Gemm::tile8x3), new Kernel("12x2", 12, 2, Gemm::tile12x2), new Kernel("8x2", 8, 2, Gemm::tile8x2),
                new Kernel("16x1", 16, 1, Gemm::tile16x1), new Kernel("6x2", 6, 2, Gemm::tile6x2),
                new Kernel("12x1", 12, 1, Gemm::tile12x1))) {
            Random rnd = new Random(k.name().hashCode());
            int width = k.vectors() * vl;
            float[] xp = TestTensors.gaussian(rnd, xo + n * width, 1);
            float[] panel = TestTensors.gaussian(rnd, po + k.weights() * Gemm.KC, 1);
            for (boolean first : new boolean[]{true, false}) {
                float[] acc = TestTensors.gaussian(rnd, ao + k.weights() * stride, 1);
                float[] expected = acc.clone();
                for (int j = 0; j < k.weights(); j++) {
                    for (int r = 0; r < width; r++) {
                        float c = first ? 0f : acc[ao + j * stride + r];
                        for (int p = 0; p < n; p++) c = Math.fma(xp[xo + p * width + r], panel[po + j * Gemm.KC + p], c);
                        expected[ao + j * stride + r] = c;
                    }
                }
                k.call().run(xp, xo, panel, po, n, acc, ao, stride, first);
                for (int i = 0; i < acc.length; i++) {
                    int at = i;
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(acc[i]),
                            () -> k.name() + (first ? " first" : " continued") + " at " + at);
                }
            }
        }
    }

    /** The kernels run at the width the build asked for (the vector-256 and vector-512 executions), else the machine's. */
    @Test
    void kernelsRunAtTheRequestedWidth() {
        Integer bits = Integer.getInteger("floe.cpu.vector-bits");
        int expected = bits != null ? bits : FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertEquals(expected, Matmul.FS.vectorBitSize());
        assertEquals(expected / 32, Matmul.VL);
        assertEquals(Matmul.VL >= 16 ? 4 * Matmul.VL : 2 * Matmul.VL, Gemm.XR, "full row blocks by register file");
    }
}
