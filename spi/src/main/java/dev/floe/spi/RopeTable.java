package dev.floe.spi;

import dev.floe.api.RopeScaling;

import java.util.HashMap;
import java.util.Map;

/**
 * The RoPE rotation of each position, computed once per pass by the runtime and handed to every backend through
 * {@link StepMetadata}, so that no backend computes angles of its own. The arithmetic follows transformers step by
 * step in float32: {@code inv_freq} as the {@code ROPE_INIT_FUNCTIONS} of {@code src/transformers/modeling_rope_utils.py}
 * compute it for the model's {@link RopeScaling} (every tensor operation rounded to float32, Python scalars entering
 * as float32 as PyTorch's type promotion has them), then {@code angle = float(pos) * inv_freq} in float32, then
 * cos/sin of that angle rounded to float32 and multiplied by the attention factor (YaRN's; 1 otherwise) in float32,
 * as {@code LlamaRotaryEmbedding.forward} does. The power and cos/sin are correctly rounded here; PyTorch's
 * vectorised float32 versions are within one ulp of them.
 *
 * <p>Dynamic NTK depends on the length of the sequence: transformers' {@code dynamic_rope_update} recomputes
 * {@code inv_freq} with {@code seq_len = max(position_ids) + 1} of the forward call whenever that exceeds
 * {@code max_position_embeddings}, and keys already cached keep the rotation they were stored with. Here a row's
 * length is the largest position + 1 among the rows of its own sequence in the pass, which is exactly transformers'
 * rule for one sequence generated alone (prefill in one pass, then one token per pass); sequences batched together do
 * not change each other's rotation (transformers would use the largest length of the whole batch).
 */
public final class RopeTable {
    private RopeTable() {
    }

    /** {@code inv_freq} without scaling, {@code headDim / 2} values. */
    public static float[] inverseFrequencies(int headDim, float theta) {
        return inverseFrequencies(headDim, theta, RopeScaling.NONE, 0);
    }

    /**
     * {@code inv_freq} under {@code scaling} for a sequence of {@code length} positions in the pass ({@code length}
     * matters to {@link RopeScaling.Dynamic} only), {@code headDim / 2} values.
     */
    public static float[] inverseFrequencies(int headDim, float theta, RopeScaling scaling, int length) {
        if (headDim < 2 || headDim % 2 != 0) throw new IllegalArgumentException("headDim: " + headDim + " is not a positive even number");
        if (!(theta > 0) || Float.isInfinite(theta)) throw new IllegalArgumentException("theta: " + theta + " is not a finite positive number");
        return switch (scaling) {
            case RopeScaling.Default d -> powers(headDim, theta);
            case RopeScaling.Linear l -> {
                // _compute_linear_scaling_rope_parameters: inv_freq /= factor
                float[] f = powers(headDim, theta);
                for (int j = 0; j < f.length; j++) f[j] = f[j] / (float) l.factor();
                yield f;
            }
            case RopeScaling.Dynamic n -> {
                // _compute_dynamic_ntk_parameters: seq_len = max(seq_len, max_position_embeddings);
                // base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2)), in float64
                int max = n.maxPositionEmbeddings();
                double len = Math.max(length, max);
                double base = (double) theta * Math.pow((n.factor() * len / max) - (n.factor() - 1), (double) headDim / (headDim - 2));
                yield powers(headDim, (float) base);
            }
            case RopeScaling.Yarn y -> yarn(headDim, theta, y);
            case RopeScaling.Llama3 l -> llama3(headDim, theta, l);
        };
    }

    /** What cos and sin are multiplied by: YaRN's attention factor, 1 for the other types. */
    public static float attentionFactor(RopeScaling scaling) {
        return scaling instanceof RopeScaling.Yarn y ? (float) y.attentionFactor() : 1f;
    }

    /**
     * cos (index 0) and sin (index 1) of each position's angles, row-major {@code [positions.length][headDim / 2]}.
     */
    public static float[][] rows(int[] positions, int headDim, float theta) {
        return rows(positions, new int[positions.length], headDim, theta, RopeScaling.NONE);
    }

    /**
     * cos (index 0) and sin (index 1) of each position's angles under {@code scaling}, row-major
     * {@code [positions.length][headDim / 2]}; {@code lengths[r]} is the length of row r's sequence in the pass.
     */
    public static float[][] rows(int[] positions, int[] lengths, int headDim, float theta, RopeScaling scaling) {
        if (lengths.length != positions.length) {
            throw new IllegalArgumentException("rope rows: " + positions.length + " positions, " + lengths.length + " lengths");
        }
        int half = headDim / 2;
        float attention = attentionFactor(scaling);
        Map<Integer, float[]> byLength = new HashMap<>();
        float[] fixed = scaling.dependsOnLength() ? null : inverseFrequencies(headDim, theta, scaling, 0);
        float[] cos = new float[positions.length * half];
        float[] sin = new float[positions.length * half];
        for (int r = 0; r < positions.length; r++) {
            if (positions[r] < 0) throw new IllegalArgumentException("positions[" + r + "]: " + positions[r] + " is negative");
            float[] invFreq = fixed != null ? fixed
                    : byLength.computeIfAbsent(lengths[r], n -> inverseFrequencies(headDim, theta, scaling, n));
            float pos = positions[r];
            for (int j = 0; j < half; j++) {
                float angle = pos * invFreq[j];
                cos[r * half + j] = (float) Math.cos(angle) * attention;
                sin[r * half + j] = (float) Math.sin(angle) * attention;
            }
        }
        return new float[][]{cos, sin};
    }

    /**
     * The length of each row's sequence in a pass: the largest position + 1 among the rows of the same sequence
     * (transformers' {@code max(position_ids) + 1} for that sequence alone).
     */
    public static int[] sequenceLengths(int[] positions, int[] sequence) {
        Map<Integer, Integer> longest = new HashMap<>();
        for (int r = 0; r < positions.length; r++) longest.merge(sequence[r], positions[r] + 1, Math::max);
        int[] lengths = new int[positions.length];
        for (int r = 0; r < positions.length; r++) lengths[r] = longest.get(sequence[r]);
        return lengths;
    }

    /** {@code 1.0 / (base ** (arange(0, d, 2).float() / d))}: exponent, power and reciprocal each rounded to float32. */
    private static float[] powers(int headDim, float base) {
        float[] f = new float[headDim / 2];
        for (int j = 0; j < f.length; j++) f[j] = 1f / power(base, j, headDim);
        return f;
    }

    private static float power(float base, int j, int headDim) {
        float exponent = (float) (2 * j) / (float) headDim;
        return (float) Math.pow(base, exponent);
    }

    /** _compute_yarn_parameters, with transformers 5's {@code truncate}. */
    private static float[] yarn(int dim, float base, RopeScaling.Yarn y) {
        double low = correctionDim(y.betaFast(), dim, base, y.originalMaxPositions());
        double high = correctionDim(y.betaSlow(), dim, base, y.originalMaxPositions());
        if (y.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001; // linear_ramp_factor: prevent singularity
        float lowF = (float) low, span = (float) (high - low), factor = (float) y.factor();
        float[] f = new float[dim / 2];
        for (int j = 0; j < f.length; j++) {
            float posFreq = power(base, j, dim);
            float extrapolation = 1f / posFreq;
            float interpolation = 1f / (factor * posFreq);
            float ramp = Math.min(Math.max(((float) j - lowF) / span, 0f), 1f);
            float extrapolationFactor = 1f - ramp;
            f[j] = interpolation * (1f - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return f;
    }

    /** find_correction_dim: the dimension whose wavelength makes {@code rotations} turns over the original context. */
    private static double correctionDim(double rotations, int dim, float base, int originalMax) {
        return (dim * Math.log(originalMax / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    }

    /** _compute_llama3_parameters. */
    private static float[] llama3(int dim, float base, RopeScaling.Llama3 l) {
        float[] invFreq = powers(dim, base);
        float factor = (float) l.factor(), lowFactor = (float) l.lowFreqFactor();
        float lowWavelen = (float) (l.originalMaxPositions() / l.lowFreqFactor());
        float highWavelen = (float) (l.originalMaxPositions() / l.highFreqFactor());
        float smoothSpan = (float) (l.highFreqFactor() - l.lowFreqFactor());
        float twoPi = (float) (2 * Math.PI), old = (float) l.originalMaxPositions();
        float[] f = new float[invFreq.length];
        for (int j = 0; j < f.length; j++) {
            float wavelen = twoPi / invFreq[j];
            float scaled = wavelen > lowWavelen ? invFreq[j] / factor : invFreq[j];
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium) {
                float smooth = (old / wavelen - lowFactor) / smoothSpan;
                scaled = (1f - smooth) * scaled / factor + smooth * scaled;
            }
            f[j] = scaled;
        }
        return f;
    }
}
