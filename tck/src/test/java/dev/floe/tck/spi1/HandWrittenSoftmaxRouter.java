package dev.floe.tck.spi1;

import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

/**
 * A researcher's router from outside Floe: softmax top-k written by hand, with no routing spec, so the runtime must
 * route on the host with it. Counts its calls, to show it ran.
 */
final class HandWrittenSoftmaxRouter implements Router {
    int calls;

    @Override
    public String name() {
        return "hand-written-softmax";
    }

    @Override
    public RoutingDecision route(RoutingInput input) {
        calls++;
        int[][] experts = new int[input.tokens()][];
        float[][] weights = new float[input.tokens()][];
        for (int t = 0; t < input.tokens(); t++) {
            float[] l = input.logits()[t];
            float max = Float.NEGATIVE_INFINITY;
            for (float v : l) max = Math.max(max, v);
            float[] p = new float[l.length];
            float sum = 0;
            for (int e = 0; e < l.length; e++) {
                p[e] = (float) Math.exp(l[e] - max);
                sum += p[e];
            }
            for (int e = 0; e < l.length; e++) p[e] /= sum;
            int k = input.topK();
            experts[t] = new int[k];
            weights[t] = new float[k];
            boolean[] taken = new boolean[l.length];
            float chosen = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < l.length; e++) if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
                taken[best] = true;
                experts[t][j] = best;
                weights[t][j] = p[best];
                chosen += p[best];
            }
            if (input.renormalize()) for (int j = 0; j < k; j++) weights[t][j] /= chosen;
        }
        return new RoutingDecision(experts, weights);
    }
}
