package dev.floe.spi;

/**
 * The RoPE rotation of each position, computed once per pass by the runtime and handed to every backend through
 * {@link StepMetadata}, so that no backend computes angles of its own. The arithmetic follows transformers'
 * {@code LlamaRotaryEmbedding} step by step in float32: {@code inv_freq = 1.0 / (base ** (arange(0, d, 2).float() / d))}
 * (the exponent rounded to float32, the power rounded to float32, the reciprocal rounded to float32), then
 * {@code angle = float(pos) * inv_freq} in float32, then cos/sin of that angle rounded to float32. The power and
 * cos/sin are correctly rounded here; PyTorch's vectorised float32 versions are within one ulp of them.
 */
public final class RopeTable {
    private RopeTable() {
    }

    /** {@code inv_freq}, {@code headDim / 2} values. */
    public static float[] inverseFrequencies(int headDim, float theta) {
        if (headDim < 2 || headDim % 2 != 0) throw new IllegalArgumentException("headDim: " + headDim + " is not a positive even number");
        if (!(theta > 0) || Float.isInfinite(theta)) throw new IllegalArgumentException("theta: " + theta + " is not a finite positive number");
        float[] f = new float[headDim / 2];
        for (int j = 0; j < f.length; j++) {
            float exponent = (float) (2 * j) / (float) headDim;
            f[j] = 1f / (float) Math.pow(theta, exponent);
        }
        return f;
    }

    /**
     * cos (index 0) and sin (index 1) of each position's angles, row-major {@code [positions.length][headDim / 2]}.
     */
    public static float[][] rows(int[] positions, int headDim, float theta) {
        float[] invFreq = inverseFrequencies(headDim, theta);
        int half = headDim / 2;
        float[] cos = new float[positions.length * half];
        float[] sin = new float[positions.length * half];
        for (int r = 0; r < positions.length; r++) {
            if (positions[r] < 0) throw new IllegalArgumentException("positions[" + r + "]: " + positions[r] + " is negative");
            float pos = positions[r];
            for (int j = 0; j < half; j++) {
                float angle = pos * invFreq[j];
                cos[r * half + j] = (float) Math.cos(angle);
                sin[r * half + j] = (float) Math.sin(angle);
            }
        }
        return new float[][]{cos, sin};
    }
}
