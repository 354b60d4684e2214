package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.floe.backend.opencl.OpenClTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * One-row matmuls run matvec.cl's kernels: every FP8 E4M3 code through the branch-free decoder, and the same sums as
 * the 8-row matmul kernel for the same row.
 */
class MatvecTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = openIfAvailable();
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    @BeforeEach
    void requireDevice() {
        assumeOpened(backend);
    }

    @Test
    void everyE4m3CodeDecodesAsFloatFormats() {
        byte[] codes = new byte[256];
        for (int c = 0; c < 256; c++) codes[c] = (byte) c;
        // 64 rows of 4 codes: the vector path; x one-hot in column j picks code 4 r + j of each row
        TensorData t = new TensorData("codes", DType.F8_E4M3, new long[]{64, 4}, MemorySegment.ofArray(codes), null);
        try (Weight w = backend.weight(t); Buffer x = backend.allocate(4); Buffer out = backend.allocate(64)) {
            for (int j = 0; j < 4; j++) {
                float[] oneHot = new float[4];
                oneHot[j] = 1;
                backend.upload(oneHot, 0, x, 0, 4);
                backend.matmul(x, 1, w, out);
                float[] got = download(backend, out, 64);
                for (int r = 0; r < 64; r++) {
                    boolean rowHasNan = false;
                    for (int c = 0; c < 4; c++) rowHasNan |= Float.isNaN(FloatFormats.e4m3ToFloat(4 * r + c));
                    float expected = rowHasNan ? Float.NaN : FloatFormats.e4m3ToFloat(4 * r + j);
                    assertEquals(expected, got[r], 0f, "code 0x" + Integer.toHexString(4 * r + j));
                }
            }
        }
    }

    @Test
    void oneRowGivesTheSumsOfTheBlockedKernel() {
        Random rnd = new Random(7);
        for (DType dtype : new DType[]{DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2}) {
            int rows = 3, cols = 100, out = 37;
            float[] x = random(rnd, rows * cols, 1);
            try (Weight w = backend.weight(tensor("w", dtype, new long[]{out, cols}, random(rnd, out * cols, 0.5)));
                 Buffer all = upload(backend, x); Buffer blocked = backend.allocate((long) rows * out);
                 Buffer one = backend.allocate(out); Buffer row = backend.allocate(cols)) {
                backend.matmul(all, rows, w, blocked);
                float[] b = download(backend, blocked, rows * out);
                for (int r = 0; r < rows; r++) {
                    backend.upload(x, r * cols, row, 0, cols);
                    backend.matmul(row, 1, w, one);
                    float[] o = download(backend, one, out);
                    for (int i = 0; i < out; i++) {
                        assertEquals(Float.floatToIntBits(b[r * out + i]), Float.floatToIntBits(o[i]),
                                dtype + " row " + r + " feature " + i + ": " + b[r * out + i] + " vs " + o[i]);
                    }
                }
            }
        }
    }
}
