package dev.floe.gating;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.api.RoutingSpec;

import java.util.Optional;

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
        if (input.tokens() == 0) return new RoutingDecision(new int[0][], new float[0][]);
        return spec(input.topK(), input.renormalize()).route(input.logits());
    }

    /** This router is exactly the device-routable rule. */
    @Override
    public Optional<RoutingSpec> deviceRouting(int layer, int topK, boolean renormalize) {
        return Optional.of(spec(topK, renormalize));
    }

    private RoutingSpec.SoftmaxTopK spec(int modelTopK, boolean renormalize) {
        return new RoutingSpec.SoftmaxTopK(k == 0 ? modelTopK : k, renormalize);
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
