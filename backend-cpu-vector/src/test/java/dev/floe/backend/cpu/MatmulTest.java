package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.Weight;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The matmul kernels of every weight dtype against a double-precision reference. */
class MatmulTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = new CpuVectorProvider().open(new BackendOptions(2, java.util.Map.of()));
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    enum ScaleKind { NONE, SCALAR, PER_ROW }

    static Stream<Arguments> shapes() {
        List<Arguments> args = new ArrayList<>();
        int[][] shapes = {
                {1, 1, 1}, {1, 7, 3}, {3, 16, 5}, {1, 31, 2}, {4, 32, 3}, {5, 33, 7}, {1, 64, 4}, {2, 127, 5},
                {9, 128, 6}, {1, 131, 11}, {4, 257, 13}, {1, 1000, 17}, {7, 1031, 9}, {1, 2048, 37}, {8, 2048, 40},
                {1, 4096, 300}, {6, 1024, 200},
                // the row counts an expert receives in a batched pass: 4 x 4 tiles, leftover rows and columns
                {12, 96, 10}, {31, 200, 70}, {23, 2048, 9}, {40, 64, 4}, {41, 131, 67}, {45, 1031, 65},
                {64, 2500, 130}, {43, 2048, 200},
                // from Gemm.minRows rows on: the packed GEMM, with partial tiles, panels and column blocks
                {96, 64, 4}, {101, 131, 67}, {97, 1031, 65}, {130, 2500, 130}};
        long seed = 1;
        for (DType t : TestTensors.WEIGHT_TYPES) {
            for (int[] s : shapes) {
                ScaleKind scale = t.bytes() == 1 ? (seed % 3 == 0 ? ScaleKind.SCALAR : ScaleKind.PER_ROW)
                        : (seed % 4 == 0 ? ScaleKind.PER_ROW : ScaleKind.NONE);
                args.add(Arguments.of(t, s[0], s[1], s[2], scale, seed++));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} x[{1}x{2}] W[{3}x{2}] scale {4}")
    @MethodSource("shapes")
    void matchesDoubleReference(DType dtype, int rows, int cols, int outRows, ScaleKind scaleKind, long seed) {
        Random rnd = new Random(seed);
        float range = dtype.bytes() == 1 ? 200f : 0.5f;
        TensorData t = TestTensors.tensor("w", dtype, outRows, cols, TestTensors.gaussian(rnd, outRows * cols, range));
        t = switch (scaleKind) {
            case NONE -> t;
            case SCALAR -> t.withScale(TestTensors.scale("w", new float[]{0.003f}));
            case PER_ROW -> {
                float[] s = new float[outRows];
                for (int i = 0; i < outRows; i++) s[i] = (float) (0.001 + rnd.nextDouble() * 0.01);
                yield t.withScale(TestTensors.scale("w", s));
            }
        };
        float[] x = TestTensors.gaussian(rnd, rows * cols, 1);
        float[] y = run(t, x, rows);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outRows; o++) {
                double ref = 0, abs = 0;
                for (int i = 0; i < cols; i++) {
                    double w = (double) FloatFormats.read(t, (long) o * cols + i) * FloatFormats.scale(t, o);
                    ref += w * x[r * cols + i];
                    abs += Math.abs(w * x[r * cols + i]);
                }
                float got = y[r * outRows + o];
                assertEquals(ref, got, 1e-5 * abs + 1e-30, () -> dtype + " row " + " out " + got);
            }
        }
    }

    private static float[] run(TensorData t, float[] x, int rows) {
        int outRows = (int) t.rows();
        try (Weight w = backend.weight(t); Buffer xb = backend.allocate(x.length); Buffer yb = backend.allocate((long) rows * outRows)) {
            backend.upload(x, 0, xb, 0, x.length);
            backend.matmul(xb, rows, w, yb);
            float[] y = new float[rows * outRows];
            backend.download(yb, 0, y, 0, y.length);
            return y;
        }
    }

    /** Every code of each 8- and 16-bit format decodes exactly as FloatFormats says, in vector blocks and tails. */
    @ParameterizedTest
    @MethodSource("codeFormats")
    void everyCodeDecodesLikeFloatFormats(DType dtype, int cols) {
        int codesCount = dtype.bytes() == 1 ? 256 : 65536;
        int step = dtype.bytes() == 1 ? 1 : 7;
        List<Integer> codes = new ArrayList<>();
        for (int c = 0; c < codesCount; c += step) codes.add(c);
        codes.add(codesCount - 1);
        if (dtype.bytes() == 2) {
            for (int special : new int[]{0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x8001, 0x03FF}) {
                codes.add(special);
            }
        }
        int rowsW = codes.size();
        int[] data = new int[rowsW * cols];
        for (int r = 0; r < rowsW; r++) java.util.Arrays.fill(data, r * cols, (r + 1) * cols, codes.get(r));
        TensorData t = TestTensors.codes("codes", dtype, rowsW, cols, data);
        for (int hot : new int[]{0, cols / 2, cols - 1}) {
            // one row through the dot products, four through a 4 x 4 tile, Gemm.minRows (the last one hot) through the GEMM
            int rows = hot == cols / 2 ? Gemm.minRows : hot == 0 ? 1 : 4;
            float[] x = new float[rows * cols];
            x[(rows - 1) * cols + hot] = 1f;
            float[] y = java.util.Arrays.copyOfRange(run(t, x, rows), (rows - 1) * rowsW, rows * rowsW);
            for (int r = 0; r < rowsW; r++) {
                float expected = FloatFormats.read(t, (long) r * cols);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(y[r]), dtype + " code " + codes.get(r) + " gave " + y[r]);
                } else if (Float.isInfinite(expected)) {
                    // inf * 0 in the other columns makes the row NaN, as IEEE (and PyTorch) say
                    assertTrue(Float.isNaN(y[r]) || y[r] == expected, dtype + " code " + codes.get(r) + " gave " + y[r]);
                } else {
                    assertEquals(expected, y[r], 0f, dtype + " code 0x" + Integer.toHexString(codes.get(r)) + " col " + hot);
                }
            }
        }
    }

    static Stream<Arguments> codeFormats() {
        List<Arguments> a = new ArrayList<>();
        for (DType t : new DType[]{DType.F8_E4M3, DType.F8_E5M2, DType.F16, DType.BF16}) {
            for (int cols : new int[]{64, 67, 128}) a.add(Arguments.of(t, cols));
        }
        return a.stream();
    }

    @Test
    void nanCodeOnlyPoisonsItsRow() {
        int rows = 3, cols = 200;
        int[] data = new int[rows * cols];
        Random rnd = new Random(5);
        for (int i = 0; i < data.length; i++) data[i] = rnd.nextInt(0x70);
        data[cols + 17] = 0xFF;
        TensorData t = TestTensors.codes("nan", DType.F8_E4M3, rows, cols, data)
                .withScale(TestTensors.scale("nan", new float[]{0.5f, 0.25f, 2f}));
        float[] x = TestTensors.gaussian(rnd, 4 * cols, 1);
        float[] y = run(t, x, 4);
        for (int r = 0; r < 4; r++) {
            assertFalse(Float.isNaN(y[r * rows]));
            assertTrue(Float.isNaN(y[r * rows + 1]), "row with code 0xFF");
            assertFalse(Float.isNaN(y[r * rows + 2]));
        }
    }

    /** Special codes deep inside large weights (scanned on several threads) reach exactly their own rows. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F16", "F8_E4M3", "F8_E5M2"})
    void specialCodesInLargeWeights(DType dtype) {
        int rows = 600, cols = 4096 + 3;
        Random rnd = new Random(17);
        int[] data = new int[rows * cols];
        int limit = dtype == DType.F16 ? 0x7000 : 0x70;
        for (int i = 0; i < data.length; i++) data[i] = rnd.nextInt(limit);
        int nan = dtype == DType.F16 ? 0x7E00 : dtype == DType.F8_E4M3 ? 0x7F : 0x7F;
        int inf = dtype == DType.F16 ? 0xFC00 : dtype == DType.F8_E4M3 ? 0xFF : 0xFC;
        data[123 * cols + 7] = nan;
        data[599 * cols + cols - 1] = inf;       // in the scalar tail
        data[400 * cols + 2048] = inf;
        TensorData t = TestTensors.codes("special", dtype, rows, cols, data);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = 1f + rnd.nextFloat();
        float[] y = run(t, x, 1);
        for (int r = 0; r < rows; r++) {
            if (r == 123 || (dtype == DType.F8_E4M3 && (r == 599 || r == 400))) {
                assertTrue(Float.isNaN(y[r]), "row " + r + " " + y[r]);
            } else if (r == 599 || r == 400) {
                assertEquals(Float.NEGATIVE_INFINITY, y[r], "row " + r);
            } else {
                assertTrue(Float.isFinite(y[r]), "row " + r + " " + y[r]);
            }
        }
    }

    @Test
    void permutationRoundTrips() {
        for (int lanes : new int[]{1, 2, 4}) {
            for (int cols : new int[]{1, 33, 64, 200, 513}) {
                float[] x = new float[2 * cols];
                for (int i = 0; i < x.length; i++) x[i] = i;
                float[] p = new float[x.length];
                Matmul.permute(x, 2, cols, lanes, p);
                for (int r = 0; r < 2; r++) {
                    for (int e = 0; e < cols; e++) {
                        assertEquals(x[r * cols + e], p[r * cols + Matmul.permuted(e, cols, lanes)], 0f);
                    }
                }
            }
        }
    }

    /**
     * Both ways of moving FP8's even bytes up (a 32-bit shift with 32 registers, a 16-bit multiply with 16) give the
     * bits the decoder keeps: the high half as it is and the low half moved up, under E4M3's and E5M2's masks. The
     * build runs this at 256 and 512 bits too, so each machine checks both.
     */
    @Test
    void fp8EvenBytesDecodeAlikeEitherWay() {
        Random rnd = new Random(3);
        int[] lanes = new int[Matmul.VL];
        for (int round = 0; round < 1000; round++) {
            for (int i = 0; i < lanes.length; i++) lanes[i] = rnd.nextInt();
            IntVector v = IntVector.fromArray(Matmul.IS, lanes, 0);
            for (int[] format : new int[][]{{4, 0x87F00000}, {3, 0x8FE00000}}) {
                IntVector even = Matmul.fp8Even(v, format[0]);
                for (int i = 0; i < lanes.length; i++) {
                    int x = lanes[i] << 8;
                    int ref = (short) (x >>> 16) >> format[0] << 16 | ((short) x >> format[0]) & 0xFFFF;
                    int got = even.lane(i);
                    assertEquals(ref & format[1], got & format[1], "high half of " + Integer.toHexString(lanes[i]));
                    assertEquals(ref << 16 & format[1], got << 16 & format[1], "low half of " + Integer.toHexString(lanes[i]));
                }
            }
        }
    }
}
