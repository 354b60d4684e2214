package dev.floe.spi;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar conversions between float32 and the storage formats of checkpoints (BF16, F16, OCP FP8 E4M3 and E5M2).
 * Backends use them for tails and fallbacks; their vector kernels must agree with them bit for bit.
 */
public final class FloatFormats {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Largest finite E4M3 value. */
    public static final float E4M3_MAX = 448f;
    /** Largest finite E5M2 value. */
    public static final float E5M2_MAX = 57344f;

    private static final float[] E4M3 = new float[256];
    private static final float[] E5M2 = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            E4M3[c] = decodeE4m3(c);
            E5M2[c] = Float.float16ToFloat((short) (c << 8));
        }
    }

    private FloatFormats() {
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Rounds to the nearest BF16, ties to even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** The value of an E4M3 ("FN") code: bias 7, no infinities, NaN only at S.1111.111. */
    public static float e4m3ToFloat(int code) {
        return E4M3[code & 0xFF];
    }

    /** The value of an E5M2 code (the upper byte of an IEEE half). */
    public static float e5m2ToFloat(int code) {
        return E5M2[code & 0xFF];
    }

    private static float decodeE4m3(int code) {
        int sign = (code & 0x80) != 0 ? -1 : 1;
        int exp = (code >>> 3) & 0xF;
        int man = code & 7;
        if (exp == 15 && man == 7) return Float.NaN;
        if (exp == 0) return sign * (man * 0x1p-9f); // a float product keeps the sign of zero (0x80 is -0)
        return sign * (1 + man / 8f) * (float) Math.scalb(1.0, exp - 7);
    }

    /**
     * Encodes to E4M3, rounding to nearest with ties to even. With {@code saturate} values beyond 448 become
     * +-448 (the right choice for quantising weights); without it they become NaN. NaN encodes to 0x7F.
     */
    public static int floatToE4m3(float f, boolean saturate) {
        return encode(f, 3, 7, E4M3_MAX, false, saturate);
    }

    /** Encodes to E5M2, ties to even; beyond 57344 saturates or becomes infinity. NaN encodes to 0x7E. */
    public static int floatToE5m2(float f, boolean saturate) {
        return encode(f, 2, 15, E5M2_MAX, true, saturate);
    }

    private static int encode(float f, int manBits, int bias, float maxFinite, boolean hasInf, boolean saturate) {
        int sign = (Float.floatToRawIntBits(f) >>> 24) & 0x80;
        int expBits = 7 - manBits;
        int maxCode = hasInf ? ((((1 << expBits) - 1) << manBits) - 1) : (((1 << expBits) - 1) << manBits) - 2 + (1 << manBits);
        int nanCode = hasInf ? (((1 << expBits) - 1) << manBits) | (1 << (manBits - 1)) : 0x7F;
        int infCode = (((1 << expBits) - 1) << manBits);
        if (Float.isNaN(f)) return nanCode;
        double a = Math.abs((double) f);
        int magnitude;
        double minNormal = Math.scalb(1.0, 1 - bias);
        if (a < minNormal) {
            magnitude = (int) Math.rint(a / Math.scalb(1.0, 1 - bias - manBits));
        } else {
            int e = Math.getExponent(a);
            double m = a / Math.scalb(1.0, e);
            int q = (int) Math.rint((m - 1) * (1 << manBits));
            if (q == 1 << manBits) {
                q = 0;
                e++;
            }
            magnitude = ((e + bias) << manBits) | q;
        }
        if (magnitude > maxCode || Float.isInfinite(f)) {
            if (saturate) return sign | maxCode;
            return sign | (hasInf ? infCode : 0x7F);
        }
        return sign | magnitude;
    }

    /** Element {@code index} of a float tensor as float32, without its scale. */
    public static float read(TensorData t, long index) {
        MemorySegment d = t.data();
        return switch (t.dtype()) {
            case F32 -> d.getAtIndex(F32, index);
            case F16 -> f16ToFloat(d.getAtIndex(I16, index));
            case BF16 -> bf16ToFloat(d.getAtIndex(I16, index));
            case F8_E4M3 -> e4m3ToFloat(d.get(ValueLayout.JAVA_BYTE, index));
            case F8_E5M2 -> e5m2ToFloat(d.get(ValueLayout.JAVA_BYTE, index));
            case I64 -> d.getAtIndex(I64, index);
            case I32 -> d.getAtIndex(I32, index);
        };
    }

    /**
     * The scale of row {@code row} of a quantised weight: 1 without a scale, the scalar scale, or the row's. A block
     * grid has no scale per row: it is an error here (see {@link ScaleLayout}).
     */
    public static float scale(TensorData t, long row) {
        TensorData s = t.scale();
        if (s == null) return 1f;
        if (s.numel() == 1) return read(s, 0);
        if (s.numel() != t.rows() || (s.shape().length == 2 && s.shape()[1] != 1)) checkScale(t);
        return read(s, row);
    }

    /** The whole tensor as float32 with a scalar or per-row scale applied (for small tensors and host fallbacks). */
    public static float[] toFloats(TensorData t) {
        return toFloats(t, ScaleLayout.of(t, null));
    }

    /** The whole tensor as float32 with its scale applied as {@code layout} says (null: unscaled). */
    public static float[] toFloats(TensorData t, ScaleLayout layout) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) throw new ModelFormatException("tensor " + t.name() + " is too large to expand: " + n);
        float[] out = new float[(int) n];
        long cols = t.cols();
        for (int i = 0; i < n; i++) {
            out[i] = layout == null ? read(t, i) : read(t, i) * ScaleLayout.scaleAt(t, layout, i / cols, i % cols);
        }
        return out;
    }

    /**
     * Checks that a weight's scale has a shape that {@link #scale} and {@link Backend#weight(TensorData)} understand:
     * scalar, [rows] or [rows, 1]. Block grids go through {@link ScaleLayout#of} and
     * {@link Backend#weight(TensorData, ScaleLayout)}.
     */
    public static void checkScale(TensorData t) {
        ScaleLayout.of(t, null);
    }
}
