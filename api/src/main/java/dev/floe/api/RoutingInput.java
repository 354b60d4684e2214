package dev.floe.api;

/**
 * What a router sees for one MoE layer and one forward pass.
 *
 * @param layer       the decoder layer
 * @param logits      router logits {@code [tokens][experts]} ({@code x W_gate^T}, float32)
 * @param tokenIds    the id of each token (for hash routing)
 * @param positions   the position of each token in its sequence
 * @param topK        the model's experts per token
 * @param renormalize whether the model renormalises top-k weights (spec section 4)
 */
public record RoutingInput(int layer, float[][] logits, int[] tokenIds, int[] positions, int topK, boolean renormalize) {
    public RoutingInput {
        if (tokenIds.length != logits.length || positions.length != logits.length) {
            throw new IllegalArgumentException("routing input: " + logits.length + " logit rows, " + tokenIds.length
                    + " token ids, " + positions.length + " positions");
        }
    }

    /** Tokens in the batch. */
    public int tokens() {
        return logits.length;
    }

    /** Experts in the layer. */
    public int experts() {
        return logits.length == 0 ? 0 : logits[0].length;
    }
}
