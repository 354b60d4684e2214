package dev.floe.tck.routing;

import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.runtime.Routers;
import dev.floe.spi.RouterProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Checks every {@link RouterProvider} that has a {@link RouterOracle} against it: the same seeded sequence of routing
 * calls (batches of 0 to 64 tokens; random logits, ties within a row and between rows, all-equal rows, NaN logits;
 * three layers interleaved so per-layer state is exercised) goes through the provider's router and a fresh oracle,
 * for several model shapes. By default experts must match exactly, in order, and weights within
 * {@value #RELATIVE_TOLERANCE} relative; an oracle may state a looser {@link RouterOracle#tolerance()} (threshold
 * routers).
 */
public final class RouterConformance {
    /** The largest relative difference allowed between a weight and the oracle's, by default. */
    public static final double RELATIVE_TOLERANCE = 1e-6;

    private static final int[] BATCH_SIZES = {1, 2, 3, 8, 0, 17, 64, 5};

    /** The kinds of logits a call gets. */
    enum Kind { GAUSSIAN, TIES, EQUAL, NAN }

    /**
     * The outcome for one router and one parameter set over every model shape.
     *
     * @param router  the provider's name
     * @param params  the parameters it was created with
     * @param passed  whether every call agreed with the oracle
     * @param message what was checked, or the first disagreement
     */
    public record Result(String router, Map<String, String> params, boolean passed, String message) {
        public Result {
            params = Map.copyOf(params);
        }
    }

    private final long seed;
    private final List<ModelConfig> configs;

    /** A run with seed 2026 over the default model shapes (8 experts k 2, 5 experts k 1 unrenormalised, Mixtral 6 k 2). */
    public RouterConformance() {
        this(2026, defaultConfigs());
    }

    /** A run with its own seed and model shapes (every shape needs at least 5 experts for the oracles' parameters). */
    public RouterConformance(long seed, List<ModelConfig> configs) {
        this.seed = seed;
        this.configs = List.copyOf(configs);
    }

    /** Model shapes checked by default. */
    public static List<ModelConfig> defaultConfigs() {
        return List.of(config(ModelFamily.ARCTIC, 8, 2), config(ModelFamily.ARCTIC, 5, 1), config(ModelFamily.MIXTRAL, 6, 2));
    }

    private static ModelConfig config(ModelFamily family, int experts, int topK) {
        return new ModelConfig(family, 1000, 64, 32, 4, 4, 2, 16, experts, topK, 1, family == ModelFamily.ARCTIC,
                10000, 1e-5, 4096, false, 1, List.of(2), "float32", null);
    }

    /** Checks the providers on Floe's path and the plugin path against {@link RouterOracles#all()}. */
    public List<Result> run() {
        return run(Routers.providers(), RouterOracles.all());
    }

    /** Checks {@code providers} against those of {@code oracles} that share their name. */
    public List<Result> run(Iterable<RouterProvider> providers, List<RouterOracle> oracles) {
        List<Result> results = new ArrayList<>();
        for (RouterProvider provider : providers) {
            for (RouterOracle oracle : oracles) {
                if (!oracle.name().equals(provider.name())) continue;
                for (Map<String, String> params : oracle.parameterSets()) results.add(check(provider, oracle, params));
            }
        }
        return results;
    }

    private Result check(RouterProvider provider, RouterOracle oracle, Map<String, String> params) {
        int calls = 0, tokens = 0;
        for (ModelConfig config : configs) {
            String shape = config.family().modelType() + " E=" + config.numExperts() + " k=" + config.topK();
            Router router;
            Function<RoutingInput, RoutingDecision> reference;
            try {
                router = provider.create(config, params);
                reference = oracle.create(config, params);
            } catch (RuntimeException e) {
                return new Result(provider.name(), params, false, shape + ": creation failed: " + e);
            }
            SplittableRandom random = new SplittableRandom(seed ^ config.numExperts());
            for (int size : BATCH_SIZES) {
                for (Kind kind : Kind.values()) {
                    RoutingInput input = input(random, calls % 3, size, kind, config);
                    String where = shape + ", call " + calls + " (layer " + input.layer() + ", " + size + " tokens, "
                            + kind.name().toLowerCase() + ")";
                    RoutingDecision actual, expected;
                    try {
                        actual = router.route(copy(input));
                        expected = reference.apply(copy(input));
                    } catch (RuntimeException e) {
                        return new Result(provider.name(), params, false, where + ": " + e);
                    }
                    String difference = compare(actual, expected, oracle.tolerance());
                    if (difference != null) return new Result(provider.name(), params, false, where + ": " + difference);
                    calls++;
                    tokens += size;
                }
            }
        }
        return new Result(provider.name(), params, true, calls + " calls, " + tokens + " tokens agree with the float64 oracle");
    }

    /** Null when the decisions agree exactly ({@link RouterOracle.Tolerance#EXACT}), otherwise the first difference. */
    static String compare(RoutingDecision actual, RoutingDecision expected) {
        return compare(actual, expected, RouterOracle.Tolerance.EXACT);
    }

    /** Null when the decisions agree within the tolerance, otherwise the first difference and how many tokens differ. */
    static String compare(RoutingDecision actual, RoutingDecision expected, RouterOracle.Tolerance tolerance) {
        if (actual.tokens() != expected.tokens()) {
            return actual.tokens() + " token rows, oracle " + expected.tokens();
        }
        int differing = 0;
        String first = null;
        for (int t = 0; t < actual.tokens(); t++) {
            int[] e = actual.experts()[t];
            if (!Arrays.equals(e, expected.experts()[t])) {
                differing++;
                if (first == null) first = "token " + t + ": experts " + Arrays.toString(e) + ", oracle " + Arrays.toString(expected.experts()[t]);
                continue;
            }
            float[] w = actual.weights()[t], x = expected.weights()[t];
            for (int j = 0; j < w.length; j++) {
                double scale = Math.max(Math.abs(w[j]), Math.abs(x[j]));
                if (!(Math.abs(w[j] - x[j]) <= tolerance.relativeWeight() * scale)) {
                    return "token " + t + ": weight of expert " + e[j] + " is " + w[j] + ", oracle " + x[j];
                }
            }
        }
        long allowed = (long) Math.floor(tolerance.differingTokens() * actual.tokens());
        if (differing > allowed) return first + (differing > 1 || allowed > 0 ? " (" + differing + " tokens differ, " + allowed + " allowed)" : "");
        return null;
    }

    /** A seeded batch of one kind. */
    static RoutingInput input(SplittableRandom random, int layer, int tokens, Kind kind, ModelConfig config) {
        int experts = config.numExperts();
        float[][] logits = new float[tokens][experts];
        int[] ids = new int[tokens];
        int[] positions = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            // a small id range gives repeated tokens (hash routing must send them to the same experts)
            ids[t] = random.nextInt(random.nextBoolean() ? 8 : config.vocabSize());
            positions[t] = t;
            float[] row = logits[t];
            switch (kind) {
                case GAUSSIAN -> fill(random, row);
                case EQUAL -> Arrays.fill(row, (float) (random.nextDouble() * 4 - 2));
                case NAN -> {
                    fill(random, row);
                    for (int e = 0; e < experts; e++) if (random.nextInt(4) == 0) row[e] = Float.NaN;
                }
                case TIES -> {
                    if (t > 0 && random.nextBoolean()) {
                        System.arraycopy(logits[random.nextInt(t)], 0, row, 0, experts); // the same row again
                    } else {
                        fill(random, row);
                        float shared = row[random.nextInt(experts)];
                        for (int e = 0; e < experts; e++) if (random.nextInt(3) == 0) row[e] = shared;
                    }
                }
            }
        }
        return new RoutingInput(layer, logits, ids, positions, config.topK(), config.renormalizeTopK());
    }

    private static void fill(SplittableRandom random, float[] row) {
        for (int e = 0; e < row.length; e++) row[e] = (float) (random.nextGaussian() * 1.5);
    }

    /** A deep copy, so that neither side can change what the other sees. */
    private static RoutingInput copy(RoutingInput in) {
        float[][] logits = new float[in.tokens()][];
        for (int t = 0; t < logits.length; t++) logits[t] = in.logits()[t].clone();
        return new RoutingInput(in.layer(), logits, in.tokenIds().clone(), in.positions().clone(), in.topK(), in.renormalize());
    }
}
