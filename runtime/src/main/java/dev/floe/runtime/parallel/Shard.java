package dev.floe.runtime.parallel;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;

import java.util.Arrays;

/**
 * What one rank of a {@code tp x ep} layout holds of a model, and the one place the sharding rules are written.
 *
 * <p>The world is {@code max(tp, ep)} ranks, and each of tp and ep is 1 or the world (the ranks that split attention
 * are the ranks that split the experts, as Arctic is served: tp 8 x ep 8 on 8 GPUs). With tp 1 attention and the
 * dense MLPs are replicated on every rank; with ep 1 every rank holds every expert. Layouts where tp and ep are both
 * above 1 and differ need sub-communicators (one tensor-parallel group per attention replica), which are not built.
 *
 * <ul>
 *   <li>Attention: rank r holds query heads {@code [r * H/tp, (r+1) * H/tp)}, the rows of {@code q_proj} for them,
 *       and the matching columns of {@code o_proj}; its output is a partial sum, all-reduced. KV heads follow: with
 *       {@code KV >= tp} rank r holds {@code KV/tp} of them; with fewer KV heads than ranks each rank holds the one KV
 *       head its query heads read (replicated, never split), which needs {@code tp} to be a multiple of {@code KV}.</li>
 *   <li>Dense and residual MLPs: rows of {@code w1}/{@code w3} (column-parallel) and columns of {@code w2}
 *       (row-parallel), all-reduced after {@code w2}.</li>
 *   <li>Experts: rank r holds the contiguous range {@code [r * E/ep, (r+1) * E/ep)}, so the partial outputs summed in
 *       rank order add experts in ascending index, as one device does.</li>
 * </ul>
 *
 * @param rank  this rank, in {@code [0, world)}
 * @param world ranks in the group
 * @param tp    tensor-parallel ranks (1 or world)
 * @param ep    expert-parallel ranks (1 or world)
 */
public record Shard(int rank, int world, int tp, int ep) {
    /** One device: everything on rank 0. */
    public static final Shard SINGLE = new Shard(0, 1, 1, 1);

    public Shard {
        if (tp < 1 || ep < 1) throw new InvalidRequestException("--tp " + tp + " --ep " + ep + ": both must be positive");
        if (world != Math.max(tp, ep) || (tp != 1 && tp != world) || (ep != 1 && ep != world)) {
            throw new InvalidRequestException("--tp " + tp + " --ep " + ep + ": tp and ep must each be 1 or the same"
                    + " number of ranks (world " + world + "); mixed layouts need sub-communicators, which are not built");
        }
        if (rank < 0 || rank >= world) throw new IllegalArgumentException("rank " + rank + " outside [0, " + world + ")");
    }

    /** Rank {@code rank} of the layout {@code tp x ep}. */
    public static Shard of(int rank, int tp, int ep) {
        return new Shard(rank, Math.max(tp, ep), tp, ep);
    }

    /**
     * Refuses a layout the model cannot be split into, naming the config field and the value at fault.
     *
     * @throws InvalidRequestException when a count is not divisible as the layout needs
     */
    public static void check(ModelConfig c, int tp, int ep, String source) {
        of(0, tp, ep);
        divides(source, "--tp", tp, "num_attention_heads", c.numHeads());
        if (c.numKvHeads() >= tp) divides(source, "--tp", tp, "num_key_value_heads", c.numKvHeads());
        else if (tp % c.numKvHeads() != 0) {
            throw new InvalidRequestException(source + ": --tp " + tp + " is not a multiple of num_key_value_heads "
                    + c.numKvHeads() + " (with fewer KV heads than ranks each rank holds one whole KV head)");
        }
        divides(source, "--tp", tp, "intermediate_size", c.intermediateSize());
        divides(source, "--tp", tp, "hidden_size", c.hiddenSize());
        divides(source, "--ep", ep, "num_local_experts", c.numExperts());
    }

    private static void divides(String source, String option, int n, String field, int value) {
        if (value % n != 0) {
            throw new InvalidRequestException(source + ": " + option + " " + n + " does not divide " + field + " " + value);
        }
    }

    /** Position in the tensor-parallel split (0 when attention is replicated). */
    public int tpRank() {
        return tp == 1 ? 0 : rank;
    }

    /** Position in the expert-parallel split (0 when experts are replicated). */
    public int epRank() {
        return ep == 1 ? 0 : rank;
    }

    /**
     * Whether attention and the dense MLPs are split over the group, so their outputs are partial sums to all-reduce:
     * tp is the world (a group of one rank included, where the all-reduce is the identity).
     */
    public boolean splitsAttention() {
        return tp == world;
    }

    /** Whether the experts are split over the group, so the MoE output is a partial sum to all-reduce. */
    public boolean splitsExperts() {
        return ep == world;
    }

    /** Query heads on this rank. */
    public int heads(ModelConfig c) {
        return c.numHeads() / tp;
    }

    /** First query head of this rank. */
    public int firstHead(ModelConfig c) {
        return tpRank() * heads(c);
    }

    /** KV heads on this rank (one, replicated, when the model has fewer than tp). */
    public int kvHeads(ModelConfig c) {
        return Math.max(1, c.numKvHeads() / tp);
    }

    /** First KV head of this rank: the KV head of its first query head. */
    public int firstKvHead(ModelConfig c) {
        return firstHead(c) / (c.numHeads() / c.numKvHeads());
    }

    /** {@code width / tp}: this rank's share of a column-parallel MLP width. */
    public int share(int width) {
        return width / tp;
    }

    /** First row (or column) of this rank's share of {@code width}. */
    public int shareStart(int width) {
        return tpRank() * share(width);
    }

    /** First expert this rank holds. */
    public int firstExpert(ModelConfig c) {
        return epRank() * (c.numExperts() / ep);
    }

    /** Whether this rank holds expert {@code e}. */
    public boolean holdsExpert(ModelConfig c, int e) {
        int first = firstExpert(c);
        return e >= first && e < first + c.numExperts() / ep;
    }

    /** The part of {@code d} this rank runs: each row's choices of the experts it holds, in their order. */
    public RoutingDecision localDecision(ModelConfig c, RoutingDecision d) {
        if (ep == 1) return d;
        int[][] experts = new int[d.tokens()][];
        float[][] weights = new float[d.tokens()][];
        for (int r = 0; r < d.tokens(); r++) {
            int[] e = d.experts()[r];
            float[] w = d.weights()[r];
            int n = 0;
            experts[r] = new int[e.length];
            weights[r] = new float[e.length];
            for (int j = 0; j < e.length; j++) {
                if (!holdsExpert(c, e[j])) continue;
                experts[r][n] = e[j];
                weights[r][n++] = w[j];
            }
            experts[r] = Arrays.copyOf(experts[r], n);
            weights[r] = Arrays.copyOf(weights[r], n);
        }
        return new RoutingDecision(experts, weights);
    }

    @Override
    public String toString() {
        return "rank " + rank + " of tp " + tp + " x ep " + ep;
    }
}
