package dev.floe.tck.routing;

import java.util.List;

/** The oracles of the strategies Floe ships. */
public final class RouterOracles {
    private RouterOracles() {
    }

    /** One oracle per shipped strategy: softmax-topk, sigmoid-topk, capacity-topk, expert-choice, hash, random. */
    public static List<RouterOracle> all() {
        return List.of(new SoftmaxTopKOracle(), new SigmoidTopKOracle(), new CapacityTopKOracle(),
                new ExpertChoiceOracle(), new HashOracle(), new RandomOracle());
    }
}
