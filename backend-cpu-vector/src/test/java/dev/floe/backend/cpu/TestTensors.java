package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.FloatFormats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Builds tensors of every weight dtype in off-heap memory, as a mapped checkpoint would hold them. */
public final class TestTensors {
    static final DType[] WEIGHT_TYPES = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestTensors() {
    }

    /** Encodes {@code values} (a rows x cols matrix, or a vector when rows is 0) in {@code dtype}. */
    public static TensorData tensor(String name, DType dtype, int rows, int cols, float[] values) {
        long n = (long) Math.max(rows, 1) * cols;
        MemorySegment seg = Arena.ofAuto().allocate(n * dtype.bytes(), 64);
        for (long i = 0; i < n; i++) {
            float v = values[(int) i];
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, v);
                case F16 -> seg.setAtIndex(I16, i, FloatFormats.floatToF16(v));
                case BF16 -> seg.setAtIndex(I16, i, FloatFormats.floatToBf16(v));
                case F8_E4M3 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE4m3(v, true));
                case F8_E5M2 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE5m2(v, true));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        long[] shape = rows == 0 ? new long[]{cols} : new long[]{rows, cols};
        return new TensorData(name, dtype, shape, seg, null);
    }

    /** Raw codes as a tensor of {@code dtype} (FP8: one byte per code, 16-bit types: one short per code). */
    static TensorData codes(String name, DType dtype, int rows, int cols, int[] codes) {
        MemorySegment seg = Arena.ofAuto().allocate((long) rows * cols * dtype.bytes(), 64);
        for (int i = 0; i < codes.length; i++) {
            if (dtype.bytes() == 1) seg.set(ValueLayout.JAVA_BYTE, i, (byte) codes[i]);
            else seg.setAtIndex(I16, i, (short) codes[i]);
        }
        return new TensorData(name, dtype, new long[]{rows, cols}, seg, null);
    }

    /** An F32 scale of {@code n} values ({@code n} = 1 for a scalar scale). */
    static TensorData scale(String name, float[] scales) {
        MemorySegment seg = Arena.ofAuto().allocate((long) scales.length * 4, 64);
        for (int i = 0; i < scales.length; i++) seg.setAtIndex(F32, i, scales[i]);
        return new TensorData(name + ".scale", DType.F32, new long[]{scales.length}, seg, null);
    }

    public static float[] gaussian(Random rnd, int n, double sd) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (rnd.nextGaussian() * sd);
        return f;
    }

    /** A bank of layer 0 holding {@code experts}. */
    public static ExpertBank bank(ExpertBank.Weights... experts) {
        return new ExpertBank() {
            @Override public int layer() { return 0; }
            @Override public int experts() { return experts.length; }
            @Override public Weights expert(int index) { return experts[index]; }
        };
    }

    /** A new buffer of {@code backend} holding {@code data}. */
    static Buffer upload(Backend backend, float[] data) {
        Buffer b = backend.allocate(data.length);
        backend.upload(data, 0, b, 0, data.length);
        return b;
    }

    /** The first {@code n} floats of {@code b}. */
    static float[] download(Backend backend, Buffer b, int n) {
        float[] f = new float[n];
        backend.download(b, 0, f, 0, n);
        return f;
    }
}
