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
import dev.floe.runtime.serving.ServingEngine;
import dev.floe.spi.Backend;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model loaded on a backend: weights, the layer graph, a paged KV pool shared by its sessions, and the generation
 * loop. Thread-safe; forward passes are serialised on the graph.
 */
public final class FloeModel implements Model {
    /** Most rows (tokens) one {@link #forward} pass takes. */
    public static final int MAX_ROWS = LayerGraph.MAX_ROWS;

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Path source;
    private final Backend backend;
    private final ModelWeights weights;
    private final ExpertStore store;
    private final Router router;
    private final KvCache kvCache;
    private final KvBlockManager kvBlocks;
    private final LayerGraph graph;
    private final ExpertCache experts;
    private final List<AutoCloseable> owned;
    private final SinkWindow sinkWindow;
    private final Set<DecoderSession> sessions = ConcurrentHashMap.newKeySet();
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
        ModelWeights weights = ModelWeights.load(p.config(), p.tensors(), p.backend(), p.source().toString(), layerProgress);
        KvCache cache = null;
        try {
            cache = kvCache(p);
            return new FloeModel(p, weights, cache);
        } catch (RuntimeException e) {
            if (cache != null) cache.close();
            weights.close();
            throw e;
        }
    }

    /** The KV pool; a backend that cannot hold it is reported with the options that size it. */
    private static KvCache kvCache(Parts p) {
        ModelConfig c = p.config();
        KvLayout layout = new KvLayout(c.numLayers(), c.numKvHeads(), c.headDim(), p.kvBlocks(), p.kvBlockSize());
        try {
            return p.backend().kvCache(layout);
        } catch (FloeException e) {
            throw e;
        } catch (RuntimeException | OutOfMemoryError e) {
            throw new FloeException(p.source() + ": the KV cache of " + layout.blocks() + " blocks of " + layout.blockSize()
                    + " tokens (" + layout.byteSize() / (1 << 20) + " MiB; max_position_embeddings is " + c.maxPositions()
                    + ") cannot be allocated on " + p.backend().name() + ": " + e.getMessage()
                    + "; set the option kv.blocks to fewer blocks", e);
        }
    }

    private FloeModel(Parts p, ModelWeights weights, KvCache cache) {
        this.config = p.config();
        this.tokenizer = p.tokenizer();
        this.source = p.source();
        this.backend = p.backend();
        this.weights = weights;
        this.store = p.store();
        this.router = p.router();
        this.kvCache = cache;
        this.kvBlocks = new KvBlockManager(p.kvBlocks(), p.kvBlockSize());
        this.owned = List.copyOf(p.owned());
        this.sinkWindow = p.sinkWindow();
        this.experts = new ExpertCache(config, store, weights.placer, p.expertCacheBytes());
        this.graph = new LayerGraph(config, backend, weights, experts, router, cache);
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

    /** The device in words. */
    public String device() {
        return backend.device();
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

    /** Device memory the backend holds. */
    public long deviceMemory() {
        return backend.memoryInUse();
    }

    /** The backend's memory read bandwidth in GB/s, measured now (NaN if it cannot measure). */
    public double measureBandwidth() {
        return backend.measureBandwidth();
    }

    /** What the layer graph has asked of the backend since loading: synchronisations, dispatches, bytes copied. */
    public PassCounters counters() {
        return graph.counters();
    }

    /** Expert cache hits, misses, prefetches and evictions since loading. */
    public ExpertCacheStats expertCache() {
        return experts.stats();
    }

    /** The backend's float32 multiply-add rate in 10^9 per second, measured now (NaN if it cannot measure). */
    public double measureMultiplyAddRate() {
        return backend.measureMultiplyAddRate();
    }

    /** Runs one forward pass, for batched callers such as the serving engine and the TCK. */
    public float[][] forward(ForwardBatch batch, ForwardObserver observer) {
        if (closed) throw new IllegalStateException("model is closed");
        checkIds(batch.tokens());
        return graph.forward(batch, observer);
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
        return new SinkWindowSession(this, new SequenceKv(kvBlocks), layout);
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

    void sessionClosed(DecoderSession s) {
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
        for (DecoderSession s : List.copyOf(sessions)) s.close();
        graph.close();
        experts.close();
        kvCache.close();
        weights.close();
        store.close();
        backend.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing is best effort: the model is gone either way
            }
        }
    }
}
