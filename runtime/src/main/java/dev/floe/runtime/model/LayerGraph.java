package dev.floe.runtime.model;

import dev.floe.api.FloeException;
import dev.floe.api.ForwardObserver;
import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.api.RoutingSpec;
import dev.floe.runtime.parallel.Shard;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.Communicator;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.KvCache;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.MoeTrace;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Arctic/Mixtral decoder (spec section 3), written once against the backend SPI. Each pass describes itself once
 * as {@link StepMetadata}; the layers are a {@link Plan} built once per scratch size and replayed (compiled by the
 * backend when it can) whenever every MoE layer routes on the device and nobody observes the pass; otherwise they
 * run eagerly, with a host {@link Router} where the router has no {@link RoutingSpec}. Data stays on the backend
 * between kernels; only the requested logits come back (and router logits for a host router or an observer).
 * One pass at a time: callers serialise on the graph.
 *
 * <p>On a rank of a parallel group the graph holds its {@link Shard} of the weights and KV heads and runs eagerly (a
 * plan cannot hold a collective): the partial outputs of {@code o_proj} and of the MLPs' {@code w2} are all-reduced
 * under tensor parallelism; rank 0 routes every MoE layer and hands its decision to the others (a router may keep
 * state, so it routes once), and under expert parallelism each rank runs the rows routed to its own experts and the
 * partial MoE outputs are all-reduced. Only rank 0 computes logits.
 */
final class LayerGraph implements AutoCloseable {
    /** Most rows per pass; longer prompts are fed in chunks of this size. */
    static final int MAX_ROWS = 256;

    private final ModelConfig c;
    private final Backend backend;
    private final DeviceOps ops;
    private final ModelWeights weights;
    private final ExpertCache experts;
    private final Router router;
    private final KvCache cache;
    private final int blockSize;
    private final float eps;
    private final float theta;
    private final Shard shard;
    /** The group's communicator, or null on one device. */
    private final Communicator comm;
    /** Whether attention and MLP outputs, and MoE outputs, are partial sums here (on a group, even of one rank). */
    private final boolean splitsAttention, splitsExperts;
    /** Rank 0's routing, for every rank of the group; null on one device. */
    private final DecisionBroadcast decisions;
    private Scratch scratch;
    private PassPlan plan;

    /** A plan for one scratch and key layout, with the buffer its last layer leaves the hidden states in. */
    private record PassPlan(Scratch scratch, boolean keysBeforeRope, List<RoutingSpec> specs, Plan plan,
                            CompiledPlan compiled, Buffer out) implements AutoCloseable {
        @Override
        public void close() {
            if (compiled != null) compiled.close();
        }
    }

    LayerGraph(ModelConfig c, Backend backend, ModelWeights weights, ExpertCache experts, Router router, KvCache cache) {
        this(c, backend, weights, experts, router, cache, Shard.SINGLE, null);
    }

    LayerGraph(ModelConfig c, Backend backend, ModelWeights weights, ExpertCache experts, Router router, KvCache cache,
               Shard shard, Communicator comm) {
        this.c = c;
        this.shard = shard;
        this.comm = comm;
        this.splitsAttention = comm != null && shard.splitsAttention();
        this.splitsExperts = comm != null && shard.splitsExperts();
        this.backend = backend;
        this.ops = new DeviceOps(backend, c.ropeScaling().scales());
        this.decisions = comm == null ? null : new DecisionBroadcast(ops, comm);
        this.weights = weights;
        this.experts = experts;
        this.router = router;
        this.cache = cache;
        this.blockSize = cache.layout().blockSize();
        this.eps = (float) c.rmsNormEps();
        this.theta = (float) c.ropeTheta();
    }

    /** Runs one pass and returns the logits of {@code batch.logitRows()}, {@code [rows][vocab]}. */
    synchronized float[][] forward(ForwardBatch batch, ForwardObserver observer) {
        int t = batch.rows();
        if (t > MAX_ROWS) throw new IllegalArgumentException("a pass carries at most " + MAX_ROWS + " rows, got " + t);
        if (batch.keysBeforeRope() && !backend.capabilities().contains(Capability.ATTENTION_SINKS)) {
            throw new dev.floe.api.InvalidRequestException("backend " + backend.name() + " lacks the "
                    + Capability.ATTENTION_SINKS.id() + " capability that attention.sink/attention.window need"
                    + " (cpu-vector has it)");
        }
        if (batch.keysBeforeRope() && c.ropeScaling().scales()) {
            // FloeModel.sinkLayout refuses such windows: the attention kernel rotates cached keys by theta alone
            throw new IllegalStateException("keys cached before RoPE with rope_scaling " + c.ropeScaling().type());
        }
        Scratch s = scratch(t);
        StepMetadata meta = StepMetadata.of(batch.tokens(), batch.positions(), batch.sequence(), batch.blockTables(),
                blockSize, shard.heads(c), c.headDim(), theta, c.ropeScaling(), batch.keysBeforeRope());
        try (Step step = ops.step(meta)) {
            List<RoutingSpec> specs = observer == null && comm == null ? deviceSpecs() : null;
            Buffer out;
            if (specs != null) {
                PassPlan p = plan(s, batch.keysBeforeRope(), specs);
                if (p.compiled() != null) ops.run(p.compiled(), p.plan(), step);
                else ops.interpret(p.plan(), step, s);
                out = p.out();
            } else {
                Eager eager = new Eager(step, s, batch, observer);
                out = layers(s, batch.keysBeforeRope(), eager);
            }
            return shard.rank() == 0 ? logits(batch.logitRows(), t, out, s) : new float[0][];
        }
    }

    /** The device routing of every MoE layer, or null when some layer routes on the host. */
    private List<RoutingSpec> deviceSpecs() {
        List<RoutingSpec> specs = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            if (!c.isMoeLayer(l)) continue;
            var spec = router.deviceRouting(l, c.topK(), c.renormalizeTopK());
            if (spec.isEmpty()) return null;
            specs.add(spec.get());
        }
        return specs;
    }

    private PassPlan plan(Scratch s, boolean keysBeforeRope, List<RoutingSpec> specs) {
        if (plan != null && plan.scratch() == s && plan.keysBeforeRope() == keysBeforeRope && plan.specs().equals(specs)) {
            return plan;
        }
        if (plan != null) plan.close();
        plan = null;
        Recorder recorder = new Recorder(specs);
        Buffer out = layers(s, keysBeforeRope, recorder);
        Plan p = new Plan(recorder.ops);
        plan = new PassPlan(s, keysBeforeRope, specs, p, ops.compilesPlans() ? ops.compile(p) : null, out);
        return plan;
    }

    /** Where the layers go: recorded into a plan, or run at once. */
    private interface Emitter {
        void op(PlanOp op);

        /** One MoE block reading {@code in} and adding into {@code dst}. */
        void moe(int layer, Buffer in, Buffer dst);

        /** Sums the first {@code width} floats of each row of {@code b} over the group's ranks, in place. */
        void allReduce(Buffer b, int width);
    }

    /** Records a plan; every MoE layer routes on the device. */
    private final class Recorder implements Emitter {
        final List<PlanOp> ops = new ArrayList<>();
        private final List<RoutingSpec> specs;
        private int moeIndex;

        Recorder(List<RoutingSpec> specs) {
            this.specs = specs;
        }

        @Override
        public void op(PlanOp op) {
            ops.add(op);
        }

        @Override
        public void moe(int layer, Buffer in, Buffer dst) {
            ops.add(new PlanOp.Moe(in, weights.layers.get(layer).gate(), experts.bank(layer), specs.get(moeIndex++), dst));
        }

        @Override
        public void allReduce(Buffer b, int width) {
            throw new IllegalStateException("a plan cannot hold a collective: a parallel rank runs eagerly");
        }
    }

    /** Runs each operation as it comes, routing on the host where the router asks for it, and feeds the observer. */
    private final class Eager implements Emitter {
        private final Step step;
        private final Scratch s;
        private final ForwardBatch batch;
        private final ForwardObserver observer;

        Eager(Step step, Scratch s, ForwardBatch batch, ForwardObserver observer) {
            this.step = step;
            this.s = s;
            this.batch = batch;
            this.observer = observer;
        }

        @Override
        public void op(PlanOp op) {
            ops.run(op, step, s);
        }

        @Override
        public void moe(int l, Buffer in, Buffer dst) {
            int t = batch.rows();
            LayerWeights w = weights.layers.get(l);
            boolean observed = observer != null && observer.wantsRouting();
            var spec = router.deviceRouting(l, c.topK(), c.renormalizeTopK());
            if (comm != null) {
                onGroup(l, in, dst, spec.orElse(null), observed);
                return;
            }
            if (spec.isPresent()) {
                MoeTrace trace = observed ? new MoeTrace() : null;
                ops.moe(new MoeCall(in, t, w.gate(), experts.bank(l), new MoeRouting.OnDevice(spec.get()), dst, trace), s);
                if (trace != null) {
                    if (trace.decision() == null) {
                        throw new FloeException("backend " + backend.name() + " did not report the routing of layer " + l
                                + " that an observer asked for");
                    }
                    observer.onRouting(l, input(l, trace.logits()), trace.decision());
                }
                return;
            }
            RoutingInput input = input(l, MoeDecomposition.logits(ops, in, t, w.gate(), s.router));
            RoutingDecision decision = router.route(input);
            check(decision, t, l);
            if (observed) observer.onRouting(l, input, decision);
            ops.moe(new MoeCall(in, t, null, experts.bank(l), new MoeRouting.Decided(decision), dst, null), s);
        }

        /**
         * The MoE block on a rank of a group. Rank 0 routes every row (a device routing by its reference on the host)
         * and hands its decision to the other ranks ({@link DecisionBroadcast}); with the experts replicated each
         * rank then runs them all into {@code dst}; with the experts split each runs the rows of its own experts into
         * a zeroed partial sum, which is all-reduced and added to {@code dst}. All-reduce rather than all-to-all: at
         * the small batches this runs (at most {@link #MAX_ROWS} rows) one all-reduce of {@code rows x hidden} floats
         * moves about as much as the two all-to-alls of dispatch and combine, and it is exact and needs no
         * per-destination bookkeeping.
         */
        private void onGroup(int l, Buffer in, Buffer dst, RoutingSpec spec, boolean observed) {
            int t = batch.rows(), hidden = c.hiddenSize();
            RoutingDecision decision = null;
            if (shard.rank() == 0) {
                RoutingInput input = input(l, MoeDecomposition.logits(ops, in, t, weights.layers.get(l).gate(), s.router));
                decision = spec != null ? spec.route(input.logits()) : router.route(input);
                check(decision, t, l);
                if (observed) observer.onRouting(l, input, decision);
            }
            decision = decisions.share(decision, t);
            if (!splitsExperts) {
                ops.moe(new MoeCall(in, t, null, experts.bank(l), new MoeRouting.Decided(decision), dst, null), s);
                return;
            }
            Buffer partial = s.mlpOut; // free here: a residual MLP's output was added before the MoE block
            ops.zero(partial, t * hidden);
            ops.moe(new MoeCall(in, t, null, experts.bank(l), new MoeRouting.Decided(shard.localDecision(c, decision)), partial, null), s);
            allReduce(partial, hidden);
            op(new PlanOp.Add(dst, partial, hidden, dst));
        }

        @Override
        public void allReduce(Buffer b, int width) {
            ops.allReduce(comm, b, (long) batch.rows() * width);
        }

        private RoutingInput input(int l, float[][] logits) {
            return new RoutingInput(l, logits, batch.tokens(), batch.positions(), c.topK(), c.renormalizeTopK());
        }

        void layerDone(int l, Buffer x) {
            if (observer != null && observer.wantsLayerOutputs()) {
                observer.onLayerOutput(l, ops.download(x, batch.rows() * c.hiddenSize()), batch.rows());
            }
        }
    }

    /** Emits the embedding and every layer; returns the buffer holding the last layer's output. */
    private Buffer layers(Scratch s, boolean keysBeforeRope, Emitter emit) {
        Buffer x = s.x, h = s.h;
        emit.op(new PlanOp.Embed(weights.embed, x));
        int hidden = c.hiddenSize(), heads = shard.heads(c);
        for (int l = 0; l < c.numLayers(); l++) {
            LayerWeights w = weights.layers.get(l);
            // attention: h = x + o_proj(Attention(N_in(x)))
            emit.op(new PlanOp.RmsNorm(x, w.inputNorm(), eps, hidden, s.xn));
            emit.op(new PlanOp.Matmul(s.xn, w.q(), s.q));
            emit.op(new PlanOp.Matmul(s.xn, w.k(), s.k));
            emit.op(new PlanOp.Matmul(s.xn, w.v(), s.v));
            emit.op(new PlanOp.Rope(s.q, heads));
            // attention-sink windows cache keys before RoPE; the attention kernel rotates them by their cache index
            if (!keysBeforeRope) emit.op(new PlanOp.Rope(s.k, shard.kvHeads(c)));
            emit.op(new PlanOp.StoreKv(cache, l, s.k, s.v));
            emit.op(new PlanOp.Attention(s.q, cache, l, s.att));
            emit.op(new PlanOp.Matmul(s.att, w.o(), h));
            if (splitsAttention) emit.allReduce(h, hidden);
            emit.op(new PlanOp.Add(x, h, hidden, h));

            if (!c.isMoeLayer(l)) {
                // out = h + DenseMLP(N_post(h))
                emit.op(new PlanOp.RmsNorm(h, w.postNorm(), eps, hidden, s.xn));
                mlp(w.dense(), s.xn, s.mlpOut, s, emit);
                emit.op(new PlanOp.Add(h, s.mlpOut, hidden, x));
            } else if (c.hasResidualMlp(l)) {
                // arctic parallel wiring: out = (h + ResidualMLP(N_res(h))) + MoE(N_post(x)), x the PRE-attention input
                emit.op(new PlanOp.RmsNorm(x, w.postNorm(), eps, hidden, s.xn));
                emit.op(new PlanOp.RmsNorm(h, w.residualNorm(), eps, hidden, s.rn));
                mlp(w.residual(), s.rn, s.mlpOut, s, emit);
                emit.op(new PlanOp.Add(h, s.mlpOut, hidden, x));
                emit.moe(l, s.xn, x);
            } else {
                // out = h + MoE(N_post(h)): h becomes the residual stream without a copy
                emit.op(new PlanOp.RmsNorm(h, w.postNorm(), eps, hidden, s.xn));
                Buffer swap = x;
                x = h;
                h = swap;
                emit.moe(l, s.xn, x);
            }
            if (emit instanceof Eager e) e.layerDone(l, x);
        }
        return x;
    }

    /** {@code out = w2(silu(w1 in) * (w3 in))}, summed over the tensor-parallel ranks' shares. */
    private void mlp(LayerWeights.Mlp m, Buffer in, Buffer out, Scratch s, Emitter emit) {
        emit.op(new PlanOp.Matmul(in, m.w1(), s.mlpA));
        emit.op(new PlanOp.Matmul(in, m.w3(), s.mlpB));
        emit.op(new PlanOp.Swiglu(s.mlpA, s.mlpB, m.width(), s.mlpA));
        emit.op(new PlanOp.Matmul(s.mlpA, m.w2(), out));
        if (splitsAttention) emit.allReduce(out, c.hiddenSize());
    }

    private void check(RoutingDecision d, int t, int layer) {
        if (d.tokens() != t) {
            throw new FloeException("router " + router.name() + " returned " + d.tokens() + " rows for " + t + " tokens at layer " + layer);
        }
        for (int r = 0; r < t; r++) {
            for (int j = 0; j < d.experts()[r].length; j++) {
                int x = d.experts()[r][j];
                float wgt = d.weights()[r][j];
                if (x < 0 || x >= c.numExperts()) {
                    throw new FloeException("router " + router.name() + " sent token " + r + " of layer " + layer
                            + " to expert " + x + ", outside [0, " + c.numExperts() + ")");
                }
                if (!Float.isFinite(wgt)) {
                    throw new FloeException("router " + router.name() + " gave token " + r + " of layer " + layer
                            + " a weight of " + wgt + " for expert " + x);
                }
            }
        }
    }

    private float[][] logits(int[] rows, int t, Buffer x, Scratch s) {
        int hidden = c.hiddenSize(), vocab = c.vocabSize();
        int n = rows.length;
        if (n == 0) return new float[0][];
        Buffer src = x;
        if (!isIdentity(rows, t)) {
            ops.gatherRows(x, hidden, rows, s.selected);
            src = s.selected;
        }
        ops.rmsNorm(src, weights.norm, eps, n, hidden, s.xn);
        ops.matmul(s.xn, n, weights.head, s.logits);
        float[] flat = ops.download(s.logits, n * vocab);
        float[][] out = new float[n][];
        for (int r = 0; r < n; r++) out[r] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
        return out;
    }

    private static boolean isIdentity(int[] rows, int t) {
        if (rows.length != t) return false;
        for (int i = 0; i < t; i++) if (rows[i] != i) return false;
        return true;
    }

    private Scratch scratch(int rows) {
        if (scratch == null || scratch.rows < rows) {
            if (plan != null) {
                plan.close();
                plan = null;
            }
            if (scratch != null) scratch.close();
            int size = scratch == null ? Math.max(rows, 1) : Math.min(MAX_ROWS, Math.max(rows, scratch.rows * 2));
            scratch = new Scratch(backend, c, size, shard);
        }
        return scratch;
    }

    /** What the graph has asked of the backend so far. */
    synchronized PassCounters counters() {
        return ops.counters();
    }

    @Override
    public synchronized void close() {
        if (decisions != null) decisions.close();
        if (plan != null) {
            plan.close();
            plan = null;
        }
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
    }
}
