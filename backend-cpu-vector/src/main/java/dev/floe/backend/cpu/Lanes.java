package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Lane arithmetic whose result does not depend on how the JVM runs it. {@code reduceLanes(ADD)} leaves the order of
 * its additions unspecified and {@code lanewise(EXP)} is an intrinsic (SVML) in compiled code but {@code Math.exp} per
 * lane in the interpreter, so the same kernel could round differently before and after JIT compilation. Here every
 * step is an IEEE operation per lane (add, multiply, FMA, permutation, integer bit moves), which the interpreter,
 * C1 and C2 all compute identically: the backend is bit-deterministic from its first call.
 */
final class Lanes {
    private static final int VL = Matmul.VL;
    // Permutations i -> i ^ k: the steps of a fixed pairwise sum. Constants (not an array) so that C2 folds them.
    private static final VectorShuffle<Float> SWAP8 = swap(8);
    private static final VectorShuffle<Float> SWAP4 = swap(4);
    private static final VectorShuffle<Float> SWAP2 = swap(2);
    private static final VectorShuffle<Float> SWAP1 = swap(1);

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two (Cody and Waite): {@code n * LN2_HI} is exact for the n that occur. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer, held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** exp underflows to 0 below this and overflows to infinity above that. */
    private static final float EXP_MIN = -104f;
    private static final float EXP_MAX = 89f;

    private Lanes() {
    }

    private static VectorShuffle<Float> swap(int bit) {
        return VectorShuffle.fromOp(Matmul.FS, lane -> (lane ^ bit) % VL);
    }

    /** The sum of the lanes, added pairwise in a fixed order (lane i with lane i ^ k, for k = VL/2 down to 1). */
    static float sum(FloatVector v) {
        if (VL > 16) return wideSum(v);
        if (VL == 16) v = v.add(v.rearrange(SWAP8));
        if (VL >= 8) v = v.add(v.rearrange(SWAP4));
        if (VL >= 4) v = v.add(v.rearrange(SWAP2));
        if (VL >= 2) v = v.add(v.rearrange(SWAP1));
        return v.lane(0);
    }

    /** The same order for vectors longer than 16 lanes (SVE), in scalar code. */
    private static float wideSum(FloatVector v) {
        float[] a = v.toArray();
        for (int k = VL / 2; k > 0; k /= 2) {
            for (int i = 0; i < k; i++) a[i] += a[i ^ k];
        }
        return a[0];
    }

    /**
     * e^x per lane, within 2 ulp over the float range: 0 below -104, infinity above 89, NaN for NaN. Range
     * reduction x = n ln2 + r with |r| <= ln2 / 2, the minimax polynomial of Cephes' expf for e^r, and 2^n applied
     * in two halves so that results near the ends of the range neither overflow nor flush early.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = c.fma(LOG2E, ROUND);
        FloatVector fn = t.sub(ROUND);
        IntVector n = t.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector r = c.sub(fn.mul(LN2_HI));
        r = fn.fma(constant(-LN2_LO), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, constant(8.3334519073e-3f));
        p = p.fma(r, constant(4.1665795894e-2f));
        p = p.fma(r, constant(1.6666665459e-1f));
        p = p.fma(r, constant(5.0000001201e-1f));
        FloatVector y = p.mul(r).fma(r, r).add(1f);
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = n.sub(n1);
        return y.mul(pow2(n1)).mul(pow2(n2));
    }

    private static FloatVector constant(float v) {
        return FloatVector.broadcast(Matmul.FS, v);
    }

    /** 2^n for n in [-126, 127]. */
    private static FloatVector pow2(IntVector n) {
        return n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }
}
