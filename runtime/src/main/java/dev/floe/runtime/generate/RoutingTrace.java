package dev.floe.runtime.generate;

import dev.floe.api.ForwardObserver;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Locale;

/**
 * Routing decisions as JSON lines, one per token and MoE layer: {@code {"pass":0,"layer":1,"position":3,"token":42,
 * "experts":[5,2],"weights":[0.61,0.39]}}. A pass is one forward call: the prompt is pass 0 (all its tokens), then
 * each generated token one pass. Attach it to a request with {@code GenerationRequest.withObserver}; {@code floe
 * generate --trace-routing FILE} writes one.
 */
public final class RoutingTrace implements ForwardObserver {
    private final Writer out;
    private int pass = -1;
    private int lastLayer = Integer.MAX_VALUE;
    private long lines;

    public RoutingTrace(Writer out) {
        this.out = out;
    }

    @Override
    public void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
        if (layer <= lastLayer) pass++; // layers come in order within a pass
        lastLayer = layer;
        StringBuilder b = new StringBuilder(96 * input.tokens());
        for (int t = 0; t < input.tokens(); t++) {
            b.append("{\"pass\":").append(pass).append(",\"layer\":").append(layer).append(",\"position\":")
                    .append(input.positions()[t]).append(",\"token\":").append(input.tokenIds()[t]).append(",\"experts\":[");
            int[] e = decision.experts()[t];
            float[] w = decision.weights()[t];
            for (int j = 0; j < e.length; j++) b.append(j == 0 ? "" : ",").append(e[j]);
            b.append("],\"weights\":[");
            for (int j = 0; j < w.length; j++) b.append(j == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6g", w[j]));
            b.append("]}\n");
            lines++;
        }
        try {
            out.write(b.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("routing trace: " + e.getMessage(), e);
        }
    }

    /** Lines written so far. */
    public long lines() {
        return lines;
    }
}
