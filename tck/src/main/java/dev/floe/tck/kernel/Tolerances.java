package dev.floe.tck.kernel;

import dev.floe.api.DType;

/**
 * Every numerical tolerance of the kit, with its reason. Errors are measured against the float64 oracle and divided by
 * the <em>magnitude</em> of the computation (the sum of the absolute values of the terms of each output, see
 * {@link Compare}), so a tolerance is a multiple of float32's unit roundoff {@code u = 2^-24 ~ 6e-8} and does not
 * depend on cancellation in the inputs. The per-dtype tolerances ({@link #matmul(DType)}, {@link #embed(DType)}) differ
 * little: F16, BF16 and FP8 values are exact in float32, so only a scale adds a rounding.
 */
public final class Tolerances {
    private Tolerances() {
    }

    /** float32 unit roundoff. */
    public static final double U = 0x1p-24;

    /**
     * Dot products of up to 4096 terms accumulated in float32 in any order (blocked, vector lanes, tree): the error
     * bound grows with the length, typically as {@code sqrt(n) u} (4e-6 at n = 4096), plus one rounding of the scale.
     */
    public static final double MATMUL = 2e-5;

    /** Gathering, embedding and decoding copy values, at most multiplying by a scale once: one rounding. */
    public static final double COPY = 2 * U;

    /**
     * {@code matmul} over weights of {@code dtype}, relative to the sum of the magnitudes of the products:
     * <ul>
     * <li>F32: the accumulation bound {@link #MATMUL};</li>
     * <li>F16 and BF16: every value is exact in float32 (BF16 is the top half of a float32; F16's 11-bit significand
     *     and exponent range fit), so decoding adds nothing: {@link #MATMUL};</li>
     * <li>FP8 E4M3/E5M2 with a scale: the codes are exact in float32 and the scale is applied once per product or
     *     once per row, one more rounding: {@link #MATMUL} plus {@code 2u}.</li>
     * </ul>
     */
    public static double matmul(DType dtype) {
        return switch (dtype) {
            case F32, F16, BF16 -> MATMUL;
            case F8_E4M3, F8_E5M2 -> MATMUL + 2 * U;
            case I64, I32 -> throw new IllegalArgumentException(dtype + " is not a weight dtype");
        };
    }

    /**
     * {@code embed} of a table of {@code dtype}: unscaled dtypes decode exactly (0 would do; {@link #COPY} leaves
     * room for nothing but a last-bit difference), scaled FP8 rows take one rounding of {@code code * scale}.
     */
    public static double embed(DType dtype) {
        return switch (dtype) {
            case F32, F16, BF16 -> COPY;
            case F8_E4M3, F8_E5M2 -> COPY;
            case I64, I32 -> throw new IllegalArgumentException(dtype + " is not a weight dtype");
        };
    }

    /** {@code a + b}: one rounding of the sum, relative to {@code |a| + |b|}. */
    public static final double ADD = 2 * U;

    /** {@code silu(g) * u}: exp, a division and a product; vector exp approximations may be a few ulps off. */
    public static final double SWIGLU = 1e-6;

    /** {@code dst += s * src} in order: one product and one sum per term, relative to the sum of magnitudes. */
    public static final double SCATTER_ADD = 4 * U;

    /** A sum of up to 4096 squares in float32, an rsqrt and two products. */
    public static final double RMS_NORM = 1e-5;

    /**
     * Rotate-half RoPE: Hugging Face (and so every checkpoint's reference) computes the angle {@code pos * inv_freq}
     * in float32, so at position {@code p} the angle itself carries an error of about {@code p * 2^-23} radians; the
     * output error relative to the pair's magnitude is that angle error plus a few roundings.
     */
    public static double rope(int maxPosition) {
        return 1e-6 + (maxPosition + 1) * 0x1p-22;
    }

    /**
     * Attention: float32 dot products of {@code headDim} terms, exp, a sum of up to 4096 weights and the weighted sum
     * of values; measured relative to the largest value magnitude of the head.
     */
    public static final double ATTENTION = 3e-5;

    /** The layer graph through a whole model: the golden fixtures' own tolerance (fixtures/README.md). */
    public static final double LOGITS = 1e-4;

    /** Batch-of-several prefill vs one sequence at a time: the same arithmetic, only the row count differs. */
    public static final double BATCH_VS_SINGLE = 1e-5;
}
