package dev.floe.tck.oracle;

/**
 * Independent float64 decoders and brute-force encoders for the storage formats, written from the format definitions
 * rather than shared with the backends ({@code FloatFormats}), so that the kit can check them.
 */
public final class Formats {
    private Formats() {
    }

    /** A value with {@code expBits}/{@code manBits} fields and IEEE-style subnormals, as a double. */
    private static double decode(int bits, int expBits, int manBits, boolean ieeeSpecials) {
        int sign = (bits >>> (expBits + manBits)) & 1;
        int exp = (bits >>> manBits) & ((1 << expBits) - 1);
        int man = bits & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        int maxExp = (1 << expBits) - 1;
        double s = sign == 1 ? -1 : 1;
        if (ieeeSpecials && exp == maxExp) return man == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        if (exp == 0) return s * man * Math.pow(2, 1 - bias - manBits);
        return s * (1 + man / (double) (1 << manBits)) * Math.pow(2, exp - bias);
    }

    /** BF16: the upper half of a float32 (8 exponent bits, 7 mantissa bits, bias 127). */
    public static double bf16(int bits) {
        return decode(bits & 0xFFFF, 8, 7, true);
    }

    /** IEEE binary16 (5 exponent bits, 10 mantissa bits, bias 15). */
    public static double f16(int bits) {
        return decode(bits & 0xFFFF, 5, 10, true);
    }

    /** OCP E4M3FN: bias 7, no infinities, NaN only at S.1111.111 (so the largest finite value is 448). */
    public static double e4m3(int code) {
        code &= 0xFF;
        if ((code & 0x7F) == 0x7F) return Double.NaN;
        return decode(code, 4, 3, false);
    }

    /** OCP E5M2: IEEE-style, bias 15, infinities and NaNs at exponent 31. */
    public static double e5m2(int code) {
        return decode(code & 0xFF, 5, 2, true);
    }

    /**
     * The E4M3 or E5M2 code nearest to {@code x} by exhaustive search over the 256 codes, ties to the even code
     * (mantissa LSB 0), sign kept; values that round beyond the largest finite magnitude give {@code -1} (out of range).
     */
    public static int nearestFp8(double x, boolean e4m3) {
        double max = e4m3 ? 448 : 57344;
        int maxCode = e4m3 ? 0x7E : 0x7B;
        double halfUlp = e4m3 ? 16 : 4096; // half the step above the largest finite value
        double a = Math.abs(x);
        if (Double.isNaN(x) || a > max + halfUlp || (a == max + halfUlp && (maxCode & 1) == 1)) return -1;
        boolean negative = x < 0 || (x == 0 && 1 / x < 0);
        if (a > max) return negative ? maxCode | 0x80 : maxCode; // rounds down to the largest finite value
        int best = -1;
        double bestDiff = Double.POSITIVE_INFINITY;
        for (int c = 0; c < 128; c++) { // magnitudes only; the sign bit is copied from x
            double v = e4m3 ? e4m3(c) : e5m2(c);
            if (Double.isNaN(v) || Double.isInfinite(v)) continue;
            double d = Math.abs(v - a);
            if (d < bestDiff || (d == bestDiff && (c & 1) == 0)) {
                best = c;
                bestDiff = d;
            }
        }
        return negative ? best | 0x80 : best;
    }

    /** The BF16 bits nearest to {@code f} (ties to even; -1 for NaN), found by comparing the two neighbouring BF16 values. */
    public static int nearestBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return -1;
        if (Float.isInfinite(f)) return bits >>> 16;
        int down = bits >>> 16;
        int up = down + 1;
        double vUp = bf16(up);
        // IEEE rounding treats the exponent as unbounded: the step past the largest finite value is 2^128
        if (Double.isInfinite(vUp)) vUp = Math.copySign(0x1p128, vUp);
        double dDown = Math.abs(bf16(down) - f), dUp = Math.abs(vUp - f);
        if (dDown < dUp) return down & 0xFFFF;
        if (dUp < dDown) return up & 0xFFFF;
        return ((down & 1) == 0 ? down : up) & 0xFFFF;
    }
}
