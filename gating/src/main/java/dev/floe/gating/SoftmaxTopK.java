package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

/**
 * The Arctic/Mixtral inference router (spec section 4): softmax over all experts in float32, the k most likely
 * (ties: lower index first), renormalised to sum to one when the model asks for it.
 */
public final class SoftmaxTopK implements Router {
    private final int k;

    /** @param k experts per token; 0 means the model's {@code num_experts_per_tok} */
    public SoftmaxTopK(int k) {
        if (k < 0) throw new IllegalArgumentException("softmax-topk: k = " + k);
        this.k = k;
    }

    @Override
    public String name() {
        return SoftmaxTopKProvider.NAME;
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int kk = Math.min(k == 0 ? input.topK() : k, input.experts());
        int[][] experts = new int[tokens][];
        float[][] weights = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            float[] p = Softmax.of(input.logits()[t]);
            experts[t] = TopK.indices(p, kk);
            weights[t] = weights(p, experts[t], input.renormalize());
        }
        return new RoutingDecision(experts, weights);
    }

    /** The probabilities of the chosen experts, divided by their sum when {@code renormalize}. */
    static float[] weights(float[] p, int[] chosen, boolean renormalize) {
        float[] w = new float[chosen.length];
        float sum = 0;
        for (int j = 0; j < chosen.length; j++) {
            w[j] = p[chosen[j]];
            sum += w[j];
        }
        if (renormalize && sum > 0) {
            for (int j = 0; j < w.length; j++) w[j] /= sum;
        }
        return w;
    }
}
