package dev.floe.runtime.model;

import dev.floe.api.ExpertStore;
import dev.floe.api.FloeException;
import dev.floe.api.ForwardObserver;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.Model;
import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.Session;
import dev.floe.api.TokenSink;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.kv.KvBlockManager;
import dev.floe.runtime.kv.SequenceKv;
import dev.floe.runtime.parallel.RankThreads;
import dev.floe.runtime.parallel.Shard;
import dev.floe.runtime.serving.ServingEngine;
import dev.floe.spi.Backend;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model loaded on a backend: weights, the layer graph, a paged KV pool shared by its sessions, and the generation
 * loop. Thread-safe; forward passes are serialised on the graph.
 *
 * <p>On a {@link DeviceGroup} the model is one {@link RankModel} per rank, each with its {@link Shard}; this object is
 * the front the API sees: it keeps the KV block tables (every rank's cache uses the same block ids), runs each pass on
 * every rank at once ({@link RankThreads}) and returns rank 0's logits. A rank that fails a pass aborts the group, so
 * the others fail at once rather than wait; the model is then unusable and must be loaded again.
 */
public final class FloeModel implements Model {
    /** Most rows (tokens) one {@link #forward} pass takes. */
    public static final int MAX_ROWS = LayerGraph.MAX_ROWS;

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Path source;
    private final Backend backend;
    private final ExpertStore store;
    private final Router router;
    private final KvBlockManager kvBlocks;
    /** Rank 0 first; one on a single device. */
    private final List<RankModel> ranks;
    /** The ranks' group, or null on a single device. */
    private final DeviceGroup group;
    /** On rank 0 of a group of processes: what sends each pass to the other ranks; else null. */
    private final PassRelay relay;
    private final List<AutoCloseable> owned;
    private final SinkWindow sinkWindow;
    private final Set<ModelSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Parts of a model; {@link dev.floe.runtime.FloeEngine} assembles them. */
    public record Parts(ModelConfig config, Tokenizer tokenizer, Path source, Backend backend, dev.floe.spi.TensorSource tensors,
                        ExpertStore store, Router router, int kvBlocks, int kvBlockSize, List<AutoCloseable> owned,
                        SinkWindow sinkWindow, long expertCacheBytes) {
        /** With an unlimited expert cache. */
        public Parts(ModelConfig config, Tokenizer tokenizer, Path source, Backend backend, dev.floe.spi.TensorSource tensors,
                     ExpertStore store, Router router, int kvBlocks, int kvBlockSize, List<AutoCloseable> owned,
                     SinkWindow sinkWindow) {
            this(config, tokenizer, source, backend, tensors, store, router, kvBlocks, kvBlockSize, owned, sinkWindow, Long.MAX_VALUE);
        }

        /** Without an attention-sink window. */
        public Parts(ModelConfig config, Tokenizer tokenizer, Path source, Backend backend, dev.floe.spi.TensorSource tensors,
                     ExpertStore store, Router router, int kvBlocks, int kvBlockSize, List<AutoCloseable> owned) {
            this(config, tokenizer, source, backend, tensors, store, router, kvBlocks, kvBlockSize, owned, null);
        }
    }

    /** Places the weights and allocates the KV pool; on failure frees what it took. */
    public static FloeModel create(Parts p, java.util.function.IntConsumer layerProgress) {
        return new FloeModel(p, List.of(RankModel.create(p, p.backend(), Shard.SINGLE, null, layerProgress)), null, null);
    }

    /**
     * Places each rank's shard of the weights on its backend of {@code group} ({@code p.backend()} is ignored; the
     * group's backends are used and closed with the model) and allocates each rank's KV cache; on failure frees what
     * it took, the group included. Progress reports rank 0's layers.
     *
     * @throws dev.floe.api.InvalidRequestException when the model cannot be split as {@code tp x ep} asks, or the
     *                                              group is not {@code max(tp, ep)} ranks
     */
    public static FloeModel create(Parts p, DeviceGroup group, int tp, int ep, java.util.function.IntConsumer layerProgress) {
        List<RankModel> ranks = new ArrayList<>();
        try {
            Shard.check(p.config(), tp, ep, p.source().toString());
            if (group.size() != Math.max(tp, ep)) {
                throw new dev.floe.api.InvalidRequestException("--tp " + tp + " --ep " + ep + " needs " + Math.max(tp, ep)
                        + " ranks, the group has " + group.size());
            }
            for (int r = 0; r < group.size(); r++) {
                ranks.add(RankModel.create(p, group.backend(r), Shard.of(r, tp, ep), group.communicator(r),
                        r == 0 ? layerProgress : layer -> { }));
            }
            return new FloeModel(p, ranks, group, null);
        } catch (RuntimeException e) {
            ranks.forEach(RankModel::close);
            group.close();
            throw e;
        }
    }

    /**
     * Rank 0 of a group of processes (one per device): places rank 0's shard on {@code p.backend()} and returns the
     * model its callers use; each pass is first sent to the other ranks, which run {@link #follow} (the leader must
     * be closed for them to return). A rank that fails a pass cannot tell the others; with NCCL they then wait in
     * their next collective, as with any NCCL job, until the launcher ends them.
     */
    public static FloeModel lead(Parts p, Communicator comm, int tp, int ep, java.util.function.IntConsumer layerProgress) {
        checkRank(p, comm, tp, ep, true);
        RankModel rank = RankModel.create(p, p.backend(), Shard.of(0, tp, ep), comm, layerProgress);
        try {
            return new FloeModel(p, List.of(rank), null, new PassRelay(p.backend(), comm));
        } catch (RuntimeException e) {
            rank.close();
            throw e;
        }
    }

    /**
     * A rank other than 0 of a group of processes: places its shard on {@code p.backend()}, runs every pass rank 0
     * {@linkplain #lead leads} until rank 0 closes its model, then frees its shard, the store, the backend and
     * {@code p.owned()}.
     */
    public static void follow(Parts p, Communicator comm, int tp, int ep) {
        try (Closer closer = new Closer(p)) {
            checkRank(p, comm, tp, ep, false);
            RankModel rank = RankModel.create(p, p.backend(), Shard.of(comm.rank(), tp, ep), comm, layer -> { });
            try (rank; PassRelay relay = new PassRelay(p.backend(), comm)) {
                for (ForwardBatch batch = relay.next(); batch != null; batch = relay.next()) rank.graph.forward(batch, null);
            }
        }
    }

    private static void checkRank(Parts p, Communicator comm, int tp, int ep, boolean leader) {
        Shard.check(p.config(), tp, ep, p.source().toString());
        if (comm.size() != Math.max(tp, ep)) {
            throw new dev.floe.api.InvalidRequestException("--tp " + tp + " --ep " + ep + " needs " + Math.max(tp, ep)
                    + " ranks, the group has " + comm.size());
        }
        if ((comm.rank() == 0) != leader) {
            throw new IllegalArgumentException("rank " + comm.rank() + (leader ? " cannot lead: rank 0 does" : " cannot follow: it leads"));
        }
    }

    /** Frees what a follower was given, once it stops. */
    private record Closer(Parts p) implements AutoCloseable {
        @Override
        public void close() {
            p.store().close();
            p.backend().close();
            closeAll(p.owned());
        }
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing is best effort: the model is gone either way
            }
        }
    }

    private FloeModel(Parts p, List<RankModel> ranks, DeviceGroup group, PassRelay relay) {
        this.config = p.config();
        this.tokenizer = p.tokenizer();
        this.source = p.source();
        this.backend = ranks.getFirst().backend;
        this.store = p.store();
        this.router = p.router();
        this.kvBlocks = new KvBlockManager(p.kvBlocks(), p.kvBlockSize());
        this.owned = List.copyOf(p.owned());
        this.sinkWindow = p.sinkWindow();
        this.ranks = List.copyOf(ranks);
        this.group = group;
        this.relay = relay;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public String backend() {
        return backend.name();
    }

    /** The device in words; on a group, how many ranks of which device and the layout. */
    public String device() {
        Shard s = ranks.getFirst().shard;
        if (s.world() == 1) return backend.device();
        return s.world() + " ranks, tp " + s.tp() + " x ep " + s.ep() + ", of " + backend.device()
                + (relay != null ? " (rank 0 of one process per rank)" : "");
    }

    /** The ranks the model runs on: 1 on one device. */
    public int ranks() {
        return ranks.getFirst().shard.world();
    }

    @Override
    public String router() {
        return router.name();
    }

    @Override
    public ExpertStore expertStore() {
        return store;
    }

    /** The KV block pool (shared by every session and by the serving engine). */
    public KvBlockManager kvBlocks() {
        return kvBlocks;
    }

    /** Device memory the backend holds (every rank's, on a group). */
    public long deviceMemory() {
        return ranks.stream().mapToLong(r -> r.backend.memoryInUse()).sum();
    }

    /** The backend's memory read bandwidth in GB/s, measured now (NaN if it cannot measure). */
    public double measureBandwidth() {
        return backend.measureBandwidth();
    }

    /** What the layer graph has asked of the backend since loading: synchronisations, dispatches, bytes copied. */
    public PassCounters counters() {
        return ranks.getFirst().graph.counters();
    }

    /** Expert cache hits, misses, prefetches and evictions since loading (every rank's together, on a group). */
    public ExpertCacheStats expertCache() {
        return ranks.stream().map(r -> r.experts.stats()).reduce(ExpertCacheStats::plus).orElseThrow();
    }

    /** The backend's float32 multiply-add rate in 10^9 per second, measured now (NaN if it cannot measure). */
    public double measureMultiplyAddRate() {
        return backend.measureMultiplyAddRate();
    }

    /** Runs one forward pass, for batched callers such as the serving engine and the TCK. */
    public float[][] forward(ForwardBatch batch, ForwardObserver observer) {
        if (closed) throw new IllegalStateException("model is closed");
        checkIds(batch.tokens());
        if (relay != null) {
            synchronized (ranks) { // the followers run passes in the order they are sent
                relay.lead(batch);
                return ranks.getFirst().graph.forward(batch, observer);
            }
        }
        if (group == null) return ranks.getFirst().graph.forward(batch, observer);
        if (batch.rows() > MAX_ROWS) throw new IllegalArgumentException("a pass carries at most " + MAX_ROWS + " rows, got " + batch.rows());
        synchronized (ranks) { // one pass at a time over the whole group: interleaved collectives would not pair up
            return RankThreads.run(group, r -> ranks.get(r).graph.forward(batch, r == 0 ? observer : null)).getFirst();
        }
    }

    /** A fresh sequence's block table, for batched callers. */
    public SequenceKv newSequenceKv() {
        return new SequenceKv(kvBlocks);
    }

    /**
     * A session with an attention-sink window (keys cached before RoPE, old blocks evicted), which can run past the
     * model's context.
     *
     * @throws InvalidRequestException when the backend lacks {@link dev.floe.spi.Capability#ATTENTION_SINKS}
     */
    public Session newSinkSession(SinkWindow window) {
        if (closed) throw new IllegalStateException("model is closed");
        SinkWindow.Layout layout = sinkLayout(window); // checked before any KV is taken
        SinkWindowSession s = new SinkWindowSession(this, new SequenceKv(kvBlocks), layout);
        sessions.add(s);
        return s;
    }

    /**
     * {@code window} in this model's KV blocks, checked against its context and its backend.
     *
     * @throws InvalidRequestException when the backend lacks {@link dev.floe.spi.Capability#ATTENTION_SINKS} or the
     *                                 window does not fit
     */
    public SinkWindow.Layout sinkLayout(SinkWindow window) {
        if (!backend.capabilities().contains(dev.floe.spi.Capability.ATTENTION_SINKS)) {
            throw new InvalidRequestException("backend " + backend.name() + " lacks the " + dev.floe.spi.Capability.ATTENTION_SINKS.id()
                    + " capability that attention.sink/attention.window need (cpu-vector has it)");
        }
        if (config.ropeScaling().scales()) {
            // sink windows cache keys before RoPE and the attention kernel rotates them by theta alone (AttentionBatch)
            throw new InvalidRequestException("attention.sink/attention.window cannot be used with rope_scaling "
                    + config.ropeScaling().type() + ": cached keys are rotated by their cache index with rope_theta alone");
        }
        return window.layout(kvBlocks.blockSize(), config.maxPositions());
    }

    /** The attention-sink window {@link #generate} uses, or null for ordinary attention. */
    public SinkWindow sinkWindow() {
        return sinkWindow;
    }

    void checkIds(int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new InvalidRequestException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    @Override
    public Session newSession(int capacity) {
        if (closed) throw new IllegalStateException("model is closed");
        if (capacity < 1 || capacity > config.maxPositions()) {
            throw new InvalidRequestException("session capacity " + capacity + " must be in [1, " + config.maxPositions() + "]");
        }
        DecoderSession s = new DecoderSession(this, new SequenceKv(kvBlocks), capacity);
        sessions.add(s);
        return s;
    }

    void sessionClosed(ModelSession s) {
        sessions.remove(s);
    }

    /**
     * One request through the serving engine's loop ({@link ServingEngine#generate}), on the calling thread: the
     * stop, EOS, length, context and BOS rules are the server's, written once.
     */
    @Override
    public GenerationResult generate(GenerationRequest request, TokenSink sink) {
        return ServingEngine.generate(this, request, sink);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (ModelSession s : List.copyOf(sessions)) s.close();
        if (relay != null) {
            synchronized (ranks) {
                relay.stop();
            }
            relay.close();
        }
        ranks.forEach(RankModel::close);
        store.close();
        if (group != null) group.close();
        else backend.close();
        closeAll(owned);
    }
}
