package dev.floe.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LanesTest {
    static final int VL = Matmul.VL;

    @Test
    void sumAddsPairwiseInAFixedOrder() {
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < 1000; trial++) {
            float[] a = new float[VL];
            for (int i = 0; i < VL; i++) a[i] = (float) ((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-6, 7)));
            // lane i adds lane i ^ k for k = VL/2 .. 1; lane 0 ends with the sum
            float[] v = a.clone();
            for (int k = VL / 2; k > 0; k /= 2) {
                float[] next = new float[VL];
                for (int i = 0; i < VL; i++) next[i] = v[i] + v[i ^ k];
                v = next;
            }
            assertEquals(Float.floatToRawIntBits(v[0]), Float.floatToRawIntBits(Lanes.sum(FloatVector.fromArray(Matmul.FS, a, 0))));
        }
    }

    @Test
    void expIsWithinTwoUlpOverTheFloatRange() {
        SplittableRandom random = new SplittableRandom(5);
        float[] x = new float[VL], y = new float[VL];
        double worst = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < VL; i++) x[i] = (float) random.nextDouble(-103, 88.7);
            Lanes.exp(FloatVector.fromArray(Matmul.FS, x, 0)).intoArray(y, 0);
            for (int i = 0; i < VL; i++) {
                double exact = Math.exp(x[i]);
                float want = (float) exact;
                double ulp = Math.ulp(want == 0 ? Float.MIN_VALUE : want);
                double err = Math.abs(y[i] - exact) / ulp;
                worst = Math.max(worst, err);
                assertTrue(err <= 2, "exp(" + x[i] + ") = " + y[i] + ", expected " + exact);
            }
        }
        assertTrue(worst > 0, "the comparison saw no rounding at all");
    }

    @Test
    void expAtTheEdges() {
        float[] x = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -200f, -104f, 89f, 88.72f, 0f, -0f, 1f, -1f,
                -87.3f, 88.0f, 1e-8f, -1e-8f, 0.5f};
        float[] in = new float[VL], out = new float[VL];
        for (int start = 0; start < x.length; start += VL) {
            int n = Math.min(VL, x.length - start);
            System.arraycopy(x, start, in, 0, n);
            Lanes.exp(FloatVector.fromArray(Matmul.FS, in, 0)).intoArray(out, 0);
            for (int i = 0; i < n; i++) {
                float v = in[i], e = (float) Math.exp(v);
                if (Float.isNaN(v)) assertTrue(Float.isNaN(out[i]));
                else if (e == 0 || Float.isInfinite(e)) assertEquals(e, out[i], "exp(" + v + ")");
                else assertTrue(Math.abs(out[i] - e) <= 2 * Math.ulp(e), "exp(" + v + ") = " + out[i] + ", expected " + e);
            }
        }
    }
}
