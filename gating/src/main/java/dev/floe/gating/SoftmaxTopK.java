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
        this.k = k;
    }

    @Override
    public String name() {
        return SoftmaxTopKProvider.NAME;
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        int kk = k == 0 ? input.topK() : k;
        int[][] experts = new int[tokens][];
        float[][] weights = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            float[] p = softmax(input.logits()[t]);
            int[] top = TopK.indices(p, kk);
            float[] w = new float[kk];
            float sum = 0;
            for (int j = 0; j < kk; j++) {
                w[j] = p[top[j]];
                sum += w[j];
            }
            if (input.renormalize()) {
                for (int j = 0; j < kk; j++) w[j] /= sum;
            }
            experts[t] = top;
            weights[t] = w;
        }
        return new RoutingDecision(experts, weights);
    }

    /** Softmax in float32 with the maximum subtracted first. */
    static float[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        float[] p = new float[logits.length];
        float sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
