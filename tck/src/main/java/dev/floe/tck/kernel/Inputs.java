package dev.floe.tck.kernel;

import dev.floe.tck.Dump;
import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.tck.oracle.Formats;
import dev.floe.tck.oracle.OracleWeight;

import java.util.SplittableRandom;

/** Seeded inputs and the small host/device helpers of the kernel checks. */
final class Inputs {
    private Inputs() {
    }

    static float[] gaussian(SplittableRandom random, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextGaussian() * sigma);
        return x;
    }

    /** How the scale of a quantised weight is given. */
    enum Scaling {
        NONE, PER_ROW, SCALAR;

        String label() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /**
     * A random weight of {@code dtype}: F32/F16/BF16 from Gaussians, FP8 as uniformly random finite codes (every
     * exponent, subnormals and zeros included).
     */
    static OracleWeight weight(SplittableRandom random, String name, DType dtype, int rows, int cols, Scaling scaling) {
        byte[] data = new byte[rows * cols * dtype.bytes()];
        for (int i = 0; i < rows * cols; i++) {
            switch (dtype) {
                case F32 -> putLe(data, i * 4, Float.floatToRawIntBits((float) random.nextGaussian()), 4);
                case F16 -> putLe(data, i * 2, Float.floatToFloat16((float) random.nextGaussian()), 2);
                case BF16 -> putLe(data, i * 2, Float.floatToRawIntBits((float) random.nextGaussian()) >>> 16, 2);
                case F8_E4M3 -> data[i] = (byte) finiteFp8(random, true);
                case F8_E5M2 -> data[i] = (byte) finiteFp8(random, false);
                default -> throw new IllegalArgumentException(dtype + " is not a weight dtype");
            }
        }
        return new OracleWeight(name, dtype, rows, cols, data, scales(random, rows, scaling));
    }

    static float[] scales(SplittableRandom random, int rows, Scaling scaling) {
        return switch (scaling) {
            case NONE -> null;
            case SCALAR -> new float[]{(float) (0.5 + random.nextDouble()) / 64};
            case PER_ROW -> {
                float[] s = new float[rows];
                for (int r = 0; r < rows; r++) s[r] = (float) Math.scalb(0.5 + random.nextDouble(), random.nextInt(-12, 3));
                yield s;
            }
        };
    }

    static int finiteFp8(SplittableRandom random, boolean e4m3) {
        while (true) {
            int c = random.nextInt(256);
            double v = e4m3 ? Formats.e4m3(c) : Formats.e5m2(c);
            if (Double.isFinite(v)) return c;
        }
    }

    static void putLe(byte[] b, int at, int bits, int bytes) {
        for (int k = 0; k < bytes; k++) b[at + k] = (byte) (bits >>> (8 * k));
    }

    static Buffer upload(Backend b, float[] x) {
        Dump.input(x);
        Buffer buf = b.allocate(Math.max(1, x.length));
        if (x.length > 0) b.upload(x, 0, buf, 0, x.length);
        return buf;
    }

    static float[] download(Backend b, Buffer buf, int n) {
        float[] out = new float[n];
        b.download(buf, 0, out, 0, n);
        Dump.output(out);
        return out;
    }

    static float[] toFloats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }
}
