package dev.floe.runtime.experts;

/** Checkpoint names of expert weights (spec section 6). */
public final class ExpertNames {
    private ExpertNames() {
    }

    /** {@code model.layers.{layer}.block_sparse_moe.experts.{expert}.{w}.weight} for w in w1, w2, w3. */
    public static String of(int layer, int expert, String w) {
        return "model.layers." + layer + ".block_sparse_moe.experts." + expert + "." + w + ".weight";
    }
}
