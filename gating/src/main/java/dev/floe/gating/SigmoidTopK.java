package dev.floe.gating;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.api.RoutingSpec;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * DeepSeek-V3's auxiliary-loss-free balancing: scores {@code s_e = sigmoid(logit_e)}; experts are <em>selected</em> by
 * {@code s_e + bias_e} but <em>weighted</em> by their own scores normalised to sum to one, so the bias steers load
 * without changing what a chosen expert contributes. With {@code adapt} the bias of each layer moves after every call
 * by {@code -gamma * sign(load_e - mean load)}, pushing tokens from busy experts to idle ones.
 *
 * <p>Selection runs in float64 (the bias steps are small, and float32 sums would blur them). A NaN logit gets score 0
 * and ranks below every other expert; if the chosen scores sum to 0 the weights are equal. State (the bias per layer)
 * lives in the router: one instance per model, one thread at a time.
 */
public final class SigmoidTopK implements Router {
    private final int k;
    private final double gamma;
    private final boolean adapt;
    private final double[] initialBias;
    private final Map<Integer, double[]> biasByLayer = new HashMap<>();

    /**
     * @param k     experts per token
     * @param gamma bias update speed (used when {@code adapt})
     * @param adapt whether the bias follows the load after every call
     * @param bias  the starting bias of every layer, one per expert
     */
    public SigmoidTopK(int k, double gamma, boolean adapt, double[] bias) {
        if (k < 1 || k > bias.length) throw new IllegalArgumentException("sigmoid-topk: k = " + k + " for " + bias.length + " experts");
        this.k = k;
        this.gamma = gamma;
        this.adapt = adapt;
        this.initialBias = bias.clone();
    }

    @Override
    public String name() {
        return SigmoidTopKProvider.NAME;
    }

    /** The current selection bias of a layer (a copy). */
    public double[] bias(int layer) {
        return biasByLayer.getOrDefault(layer, initialBias).clone();
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        int tokens = input.tokens();
        if (tokens == 0) return new RoutingDecision(new int[0][], new float[0][]);
        int experts = input.experts();
        if (experts != initialBias.length) {
            throw new InvalidRequestException("router sigmoid-topk: layer " + input.layer() + " has " + experts
                    + " experts but the bias has " + initialBias.length);
        }
        double[] bias = biasByLayer.computeIfAbsent(input.layer(), l -> initialBias.clone());
        RoutingDecision decision = new RoutingSpec.SigmoidTopK(k, bias).route(input.logits());
        long[] load = new long[experts];
        for (int[] chosen : decision.experts()) for (int e : chosen) load[e]++;
        if (adapt) {
            double mean = (double) tokens * k / experts;
            for (int e = 0; e < experts; e++) bias[e] -= gamma * Math.signum(load[e] - mean);
        }
        return decision;
    }

    /** Without adaptation the rule is fixed, so a backend may route on its device. */
    @Override
    public Optional<RoutingSpec> deviceRouting(int layer, int topK, boolean renormalize) {
        return adapt ? Optional.empty() : Optional.of(new RoutingSpec.SigmoidTopK(k, bias(layer)));
    }
}
