package dev.floe.runtime.serving;

import dev.floe.api.ForwardObserver;
import dev.floe.api.GenerationRequest;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands each request's own rows of a batched pass's routing to the observer on that request
 * ({@link GenerationRequest#observer()}), so a request sees the decisions {@code Model.generate} would show it, however
 * the scheduler batched it.
 */
final class RoutingByRequest implements ForwardObserver {
    private final List<ForwardObserver> observers;
    private final int[] sequence;

    private RoutingByRequest(List<ForwardObserver> observers, int[] sequence) {
        this.observers = observers;
        this.sequence = sequence;
    }

    /** An observer for a pass whose row r belongs to {@code requests.get(sequence[r])}, or null when none observes. */
    static ForwardObserver of(List<GenerationRequest> requests, int[] sequence) {
        List<ForwardObserver> observers = new ArrayList<>(requests.size());
        boolean any = false;
        for (GenerationRequest r : requests) {
            observers.add(r.observer());
            any |= r.observer() != null;
        }
        return any ? new RoutingByRequest(observers, sequence) : null;
    }

    @Override
    public void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
        if (input.tokens() != sequence.length) return; // not this pass's rows: nothing can be attributed
        for (int s = 0; s < observers.size(); s++) {
            ForwardObserver o = observers.get(s);
            if (o == null) continue;
            int n = 0;
            for (int q : sequence) if (q == s) n++;
            float[][] logits = new float[n][];
            int[] ids = new int[n], positions = new int[n];
            int[][] experts = new int[n][];
            float[][] weights = new float[n][];
            for (int row = 0, k = 0; row < sequence.length; row++) {
                if (sequence[row] != s) continue;
                logits[k] = input.logits()[row];
                ids[k] = input.tokenIds()[row];
                positions[k] = input.positions()[row];
                experts[k] = decision.experts()[row];
                weights[k] = decision.weights()[row];
                k++;
            }
            o.onRouting(layer, new RoutingInput(layer, logits, ids, positions, input.topK(), input.renormalize()),
                    new RoutingDecision(experts, weights));
        }
    }
}
