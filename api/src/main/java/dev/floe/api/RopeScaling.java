package dev.floe.api;

/**
 * How a model stretches its rotary position embedding past the context it was trained on: the {@code rope_scaling}
 * (or transformers 5's {@code rope_parameters}) block of {@code config.json}, with the meaning transformers gives it
 * in {@code src/transformers/modeling_rope_utils.py} ({@code ROPE_INIT_FUNCTIONS}). The inverse frequencies themselves
 * are computed in one place, {@code dev.floe.spi.RopeTable}. Instances are valid: each record rejects impossible
 * values with the field named.
 */
public sealed interface RopeScaling {
    /** No scaling: {@code inv_freq_j = theta^(-2j/d)}. */
    RopeScaling NONE = new Default();

    /** The {@code rope_type} as config.json spells it. */
    String type();

    /**
     * The context a model with this scaling serves, given {@code max_position_embeddings}: linear and dynamic
     * scaling stretch it by their factor (the convention of vLLM's rotary caches); YaRN and llama3 configs already
     * give the extended context there (never less than {@code factor * original_max_position_embeddings}).
     */
    int contextLength(int maxPositionEmbeddings);

    /** Whether this changes the rotation at all ({@code default} does not, whichever instance it is). */
    default boolean scales() {
        return true;
    }

    /** The scaling sets the rotation of a position from the length of the sequence it is in (dynamic NTK). */
    default boolean dependsOnLength() {
        return false;
    }

    /** {@code rope_type} {@code default}. */
    record Default() implements RopeScaling {
        @Override public String type() { return "default"; }
        @Override public int contextLength(int maxPositionEmbeddings) { return maxPositionEmbeddings; }
        @Override public boolean scales() { return false; }
    }

    /**
     * {@code linear} (position interpolation): {@code inv_freq / factor}.
     *
     * @param factor the stretch, at least 1
     */
    record Linear(double factor) implements RopeScaling {
        public Linear {
            atLeastOne("factor", factor);
        }

        @Override public String type() { return "linear"; }
        @Override public int contextLength(int maxPositionEmbeddings) { return stretched(factor, maxPositionEmbeddings); }
    }

    /**
     * {@code dynamic} (dynamic NTK): while a sequence is longer than {@code maxPositionEmbeddings} its base becomes
     * {@code theta * (factor * len / max - (factor - 1)) ^ (d / (d - 2))}, {@code len} being the sequence's length
     * in the pass (transformers' {@code _compute_dynamic_ntk_parameters} with {@code dynamic_rope_update}).
     *
     * @param factor               the stretch, at least 1
     * @param maxPositionEmbeddings the trained context, {@code max_position_embeddings} of config.json
     */
    record Dynamic(double factor, int maxPositionEmbeddings) implements RopeScaling {
        public Dynamic {
            atLeastOne("factor", factor);
            if (maxPositionEmbeddings < 1) {
                throw new ModelFormatException("config: max_position_embeddings " + maxPositionEmbeddings + " must be positive for dynamic rope_scaling");
            }
        }

        @Override public String type() { return "dynamic"; }
        @Override public int contextLength(int max) { return stretched(factor, max); }
        @Override public boolean dependsOnLength() { return true; }
    }

    /**
     * {@code yarn} (transformers' {@code _compute_yarn_parameters}): frequencies blended between interpolation and
     * extrapolation by a linear ramp over the dimensions between the {@code beta_fast} and {@code beta_slow}
     * correction dimensions, and cos/sin multiplied by {@link #attentionFactor()}.
     *
     * @param factor                 the stretch, at least 1
     * @param originalMaxPositions   {@code original_max_position_embeddings}, the trained context
     * @param betaFast               {@code beta_fast} (32 when absent)
     * @param betaSlow               {@code beta_slow} (1 when absent)
     * @param mscale                 {@code mscale}, or 0 when absent
     * @param mscaleAllDim           {@code mscale_all_dim}, or 0 when absent
     * @param explicitAttentionFactor {@code attention_factor}, or NaN when absent
     * @param truncate               {@code truncate} (true when absent): the correction range is floored/ceiled
     */
    record Yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow, double mscale,
                double mscaleAllDim, double explicitAttentionFactor, boolean truncate) implements RopeScaling {
        public Yarn {
            atLeastOne("factor", factor);
            if (originalMaxPositions < 1) {
                throw new ModelFormatException("config: rope_scaling.original_max_position_embeddings " + originalMaxPositions + " must be positive");
            }
            finitePositive("beta_fast", betaFast);
            finitePositive("beta_slow", betaSlow);
            finiteNonNegative("mscale", mscale);
            finiteNonNegative("mscale_all_dim", mscaleAllDim);
            if (!Double.isNaN(explicitAttentionFactor)) finitePositive("attention_factor", explicitAttentionFactor);
        }

        @Override public String type() { return "yarn"; }

        @Override
        public int contextLength(int max) {
            return Math.max(max, stretched(factor, originalMaxPositions));
        }

        /**
         * What cos and sin are multiplied by: {@code attention_factor} when given, else
         * {@code get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)} when both are non-zero, else
         * {@code get_mscale(factor)}, with {@code get_mscale(s, m) = s <= 1 ? 1 : 0.1 * m * ln(s) + 1}.
         */
        public double attentionFactor() {
            if (!Double.isNaN(explicitAttentionFactor)) return explicitAttentionFactor;
            if (mscale != 0 && mscaleAllDim != 0) return mscale(factor, mscale) / mscale(factor, mscaleAllDim);
            return mscale(factor, 1);
        }

        private static double mscale(double scale, double m) {
            return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
        }
    }

    /**
     * {@code llama3} (transformers' {@code _compute_llama3_parameters}): wavelengths above
     * {@code original / low_freq_factor} divided by {@code factor}, below {@code original / high_freq_factor} kept,
     * and smoothly interpolated between.
     *
     * @param factor               the stretch, at least 1
     * @param lowFreqFactor        {@code low_freq_factor}
     * @param highFreqFactor       {@code high_freq_factor}, above {@code low_freq_factor}
     * @param originalMaxPositions {@code original_max_position_embeddings}
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) implements RopeScaling {
        public Llama3 {
            atLeastOne("factor", factor);
            finitePositive("low_freq_factor", lowFreqFactor);
            finitePositive("high_freq_factor", highFreqFactor);
            if (!(highFreqFactor > lowFreqFactor)) {
                throw new ModelFormatException("config: rope_scaling.high_freq_factor " + highFreqFactor
                        + " must be greater than low_freq_factor " + lowFreqFactor);
            }
            if (originalMaxPositions < 1) {
                throw new ModelFormatException("config: rope_scaling.original_max_position_embeddings " + originalMaxPositions + " must be positive");
            }
        }

        @Override public String type() { return "llama3"; }

        @Override
        public int contextLength(int max) {
            return Math.max(max, stretched(factor, originalMaxPositions));
        }
    }

    private static int stretched(double factor, int positions) {
        return (int) Math.min(Integer.MAX_VALUE - 1, Math.floor(factor * positions));
    }

    private static void atLeastOne(String field, double v) {
        if (!(v >= 1) || Double.isInfinite(v)) {
            throw new ModelFormatException("config: rope_scaling." + field + " " + v + " must be a finite number >= 1");
        }
    }

    private static void finitePositive(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new ModelFormatException("config: rope_scaling." + field + " " + v + " must be a finite positive number");
        }
    }

    private static void finiteNonNegative(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new ModelFormatException("config: rope_scaling." + field + " " + v + " must be a finite number >= 0");
        }
    }
}
