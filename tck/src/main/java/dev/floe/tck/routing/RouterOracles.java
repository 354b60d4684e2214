package dev.floe.tck.routing;

import dev.floe.runtime.Providers;
import dev.floe.tck.Tck;

import java.util.ArrayList;
import java.util.List;

/** The oracles of the strategies Floe ships, and those research modules provide. */
public final class RouterOracles {
    private RouterOracles() {
    }

    /** One oracle per shipped strategy: softmax-topk, sigmoid-topk, capacity-topk, expert-choice, hash, random. */
    public static List<RouterOracle> builtIn() {
        return List.of(new SoftmaxTopKOracle(), new SigmoidTopKOracle(), new CapacityTopKOracle(),
                new ExpertChoiceOracle(), new HashOracle(), new RandomOracle());
    }

    /**
     * The built-in oracles and every {@link RouterOracle} provider on the module path and the plugin path, one per
     * name ({@link Providers}' rule: an oracle named like another is an error naming both).
     */
    public static List<RouterOracle> all() {
        List<Providers.Found<RouterOracle>> found = new ArrayList<>();
        for (RouterOracle o : builtIn()) {
            found.add(new Providers.Found<>("router oracle", o.name(), o, new Providers.Origin("dev.floe.tck", "built in", Tck.VERSION, false)));
        }
        found.addAll(Providers.all("router oracle", RouterOracle.class, RouterOracle::name));
        List<RouterOracle> out = new ArrayList<>();
        for (String name : found.stream().map(Providers.Found::name).distinct().toList()) {
            out.add(Providers.unique(found.stream().filter(f -> f.name().equals(name)).toList()).provider());
        }
        return out;
    }
}
