package dev.floe.gating;

import dev.floe.api.ForwardObserver;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts what a router did, per MoE layer and per expert, across any number of forward passes: attach it with
 * {@code session.observer(telemetry)} and read a {@link #snapshot()}. The snapshot is made of plain records that
 * serialise to JSON as they are. Thread-safe (sessions of one model may share it).
 */
public final class RoutingTelemetry implements ForwardObserver {
    private final Map<Integer, Layer> layers = new TreeMap<>();
    private long calls;

    /**
     * One expert of one layer.
     *
     * @param expert     its index
     * @param tokens     (token, expert) pairs routed to it
     * @param weightMass the sum of their weights
     * @param share      {@code tokens} over all pairs of the layer; {@code 1/E} is an even share
     * @param displaced  pairs the default router (softmax top-k of the same logits, the model's k) would have sent
     *                   here but this router did not: for {@code capacity-topk} exactly its capacity drops
     */
    public record ExpertLoad(int expert, long tokens, double weightMass, double share, long displaced) {
    }

    /**
     * One layer over every pass seen.
     *
     * @param layer             the decoder layer
     * @param tokens            tokens routed (rows)
     * @param assignments       (token, expert) pairs
     * @param droppedTokens     tokens that got fewer experts than the model's k (capacity drops; expert choice)
     * @param unroutedTokens    tokens that got no expert at all (residual path only)
     * @param dropRate          {@code droppedTokens / tokens}
     * @param meanEntropy       mean over routed tokens of the entropy (nats) of their weights normalised to sum 1;
     *                          {@code ln k} for k equal weights, 0 for one expert
     * @param loadCv            coefficient of variation (population std / mean) of the tokens per expert; 0 is perfect balance
     * @param maxOverMean       the busiest expert's tokens over the mean; 1 is perfect balance, E is total collapse
     * @param agreement         the fraction of the default router's (token, expert) pairs that this router kept too:
     *                          1 for softmax-topk, about k/E for a router that ignores the logits
     * @param experts           per expert, in index order
     */
    public record LayerStats(int layer, long tokens, long assignments, long droppedTokens, long unroutedTokens,
                             double dropRate, double meanEntropy, double loadCv, double maxOverMean, double agreement,
                             List<ExpertLoad> experts) {
        public LayerStats {
            experts = List.copyOf(experts);
        }
    }

    /**
     * Everything seen so far.
     *
     * @param calls          routing calls observed (one per MoE layer per pass)
     * @param layers         per layer, in layer order
     * @param dropRate       dropped tokens over routed tokens, all layers together
     * @param meanEntropy    mean of the layers' mean entropies
     * @param meanLoadCv     mean of the layers' load coefficients of variation
     * @param maxOverMean    the worst layer's max/mean load
     * @param agreement      the mean of the layers' agreement with the default router
     */
    public record Snapshot(long calls, List<LayerStats> layers, double dropRate, double meanEntropy, double meanLoadCv,
                           double maxOverMean, double agreement) {
        public Snapshot {
            layers = List.copyOf(layers);
        }
    }

    @Override
    public synchronized void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
        calls++;
        int experts = input.experts();
        Layer acc = layers.computeIfAbsent(layer, l -> new Layer(experts));
        acc.add(input, decision);
    }

    /** Forgets everything seen. */
    public synchronized void reset() {
        layers.clear();
        calls = 0;
    }

    /** The statistics so far. */
    public synchronized Snapshot snapshot() {
        List<LayerStats> stats = new ArrayList<>();
        long tokens = 0, dropped = 0;
        double entropy = 0, cv = 0, worst = 0, agreement = 0;
        for (var entry : layers.entrySet()) {
            LayerStats s = entry.getValue().stats(entry.getKey());
            stats.add(s);
            tokens += s.tokens();
            dropped += s.droppedTokens();
            entropy += s.meanEntropy();
            cv += s.loadCv();
            worst = Math.max(worst, s.maxOverMean());
            agreement += s.agreement();
        }
        int n = Math.max(1, stats.size());
        return new Snapshot(calls, stats, tokens == 0 ? 0 : (double) dropped / tokens, entropy / n, cv / n, worst,
                stats.isEmpty() ? 0 : agreement / n);
    }

    /** Running sums of one layer. */
    private static final class Layer {
        final long[] tokensPerExpert;
        final double[] massPerExpert;
        final long[] displacedPerExpert;
        long tokens, dropped, unrouted, routed, defaultPairs, keptPairs;
        double entropySum;

        Layer(int experts) {
            tokensPerExpert = new long[experts];
            massPerExpert = new double[experts];
            displacedPerExpert = new long[experts];
        }

        void add(RoutingInput input, RoutingDecision decision) {
            int k = input.topK();
            for (int t = 0; t < decision.tokens(); t++) {
                int[] e = decision.experts()[t];
                float[] w = decision.weights()[t];
                tokens++;
                if (t < input.tokens() && input.logits()[t].length == tokensPerExpert.length) {
                    for (int d : TopK.indices(Softmax.of(input.logits()[t]), Math.min(k, tokensPerExpert.length))) {
                        defaultPairs++;
                        boolean kept = false;
                        for (int x : e) kept |= x == d;
                        if (kept) keptPairs++;
                        else displacedPerExpert[d]++;
                    }
                }
                if (e.length < k) dropped++;
                if (e.length == 0) {
                    unrouted++;
                    continue;
                }
                double sum = 0;
                for (int j = 0; j < e.length; j++) {
                    if (e[j] >= 0 && e[j] < tokensPerExpert.length) {
                        tokensPerExpert[e[j]]++;
                        massPerExpert[e[j]] += w[j];
                    }
                    sum += w[j];
                }
                if (sum > 0) {
                    double h = 0;
                    for (float wj : w) {
                        double q = wj / sum;
                        if (q > 0) h -= q * Math.log(q);
                    }
                    entropySum += h;
                    routed++;
                }
            }
        }

        LayerStats stats(int layer) {
            int experts = tokensPerExpert.length;
            long assignments = 0, max = 0;
            for (long n : tokensPerExpert) {
                assignments += n;
                max = Math.max(max, n);
            }
            double mean = (double) assignments / experts;
            double var = 0;
            for (long n : tokensPerExpert) var += (n - mean) * (n - mean);
            double cv = mean == 0 ? 0 : Math.sqrt(var / experts) / mean;
            List<ExpertLoad> loads = new ArrayList<>(experts);
            for (int e = 0; e < experts; e++) {
                loads.add(new ExpertLoad(e, tokensPerExpert[e], massPerExpert[e],
                        assignments == 0 ? 0 : (double) tokensPerExpert[e] / assignments, displacedPerExpert[e]));
            }
            return new LayerStats(layer, tokens, assignments, dropped, unrouted, tokens == 0 ? 0 : (double) dropped / tokens,
                    routed == 0 ? 0 : entropySum / routed, cv, mean == 0 ? 0 : max / mean,
                    defaultPairs == 0 ? 0 : (double) keptPairs / defaultPairs, loads);
        }
    }
}
