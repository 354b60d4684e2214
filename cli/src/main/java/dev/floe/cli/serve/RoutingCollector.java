package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ForwardObserver;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

/**
 * The opt-in extension {@code "floe_routing": true} of a completion request: the request's routing decisions,
 * returned as {@code "floe_routing": [{"layer":..,"position":..,"token":..,"experts":[..],"weights":[..]}, ...]} next
 * to {@code usage} (in the last chunk when streaming). The engine hands it only this request's rows of each batched
 * pass.
 */
final class RoutingCollector implements ForwardObserver {
    /** The request field that asks for it. */
    static final String FIELD = "floe_routing";
    private final ArrayNode decisions = JsonNodeFactory.instance.arrayNode();

    @Override
    public synchronized void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
        for (int t = 0; t < input.tokens(); t++) {
            ObjectNode d = decisions.addObject().put("layer", layer).put("position", input.positions()[t]).put("token", input.tokenIds()[t]);
            ArrayNode e = d.putArray("experts"), w = d.putArray("weights");
            for (int x : decision.experts()[t]) e.add(x);
            for (float x : decision.weights()[t]) w.add(x);
        }
    }

    /** Adds the decisions to a response object when the request asked for them. */
    static void addTo(ObjectNode response, CompletionRequest request) {
        if (request.request().observer() instanceof RoutingCollector c) {
            synchronized (c) {
                response.set(FIELD, c.decisions.deepCopy());
            }
        }
    }
}
