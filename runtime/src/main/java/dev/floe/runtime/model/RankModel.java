package dev.floe.runtime.model;

import dev.floe.api.FloeException;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.parallel.Shard;
import dev.floe.spi.Backend;
import dev.floe.spi.Communicator;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

import java.util.function.IntConsumer;

/**
 * What one device holds of a model: its {@link Shard} of the weights, its experts, its KV cache (its own KV heads, the
 * block ids of the model's shared {@link dev.floe.runtime.kv.KvBlockManager}) and its layer graph. One device runs one
 * rank; a parallel model runs one per rank of its group. The backend belongs to the caller.
 */
final class RankModel implements AutoCloseable {
    final Backend backend;
    final Shard shard;
    final ModelWeights weights;
    final ExpertCache experts;
    final KvCache kvCache;
    final LayerGraph graph;

    private RankModel(Backend backend, Shard shard, ModelWeights weights, ExpertCache experts, KvCache kvCache, LayerGraph graph) {
        this.backend = backend;
        this.shard = shard;
        this.weights = weights;
        this.experts = experts;
        this.kvCache = kvCache;
        this.graph = graph;
    }

    /** Places the rank's weights and allocates its KV cache; on failure frees what it took. */
    static RankModel create(FloeModel.Parts p, Backend backend, Shard shard, Communicator comm, IntConsumer progress) {
        ModelConfig c = p.config();
        ModelWeights weights = ModelWeights.load(c, p.tensors(), backend, p.source().toString(), progress, shard);
        KvCache cache = null;
        try {
            cache = kvCache(p, backend, shard);
            ExpertCache experts = new ExpertCache(c, p.store(), weights.placer, p.expertCacheBytes(), shard);
            return new RankModel(backend, shard, weights, experts, cache, new LayerGraph(c, backend, weights, experts, p.router(), cache, shard, comm));
        } catch (RuntimeException e) {
            if (cache != null) cache.close();
            weights.close();
            throw e;
        }
    }

    /** The KV pool of the rank's KV heads; a backend that cannot hold it is reported with the options that size it. */
    private static KvCache kvCache(FloeModel.Parts p, Backend backend, Shard shard) {
        ModelConfig c = p.config();
        KvLayout layout = new KvLayout(c.numLayers(), shard.kvHeads(c), c.headDim(), p.kvBlocks(), p.kvBlockSize());
        try {
            return backend.kvCache(layout);
        } catch (FloeException e) {
            throw e;
        } catch (RuntimeException | OutOfMemoryError e) {
            throw new FloeException(p.source() + ": the KV cache of " + layout.blocks() + " blocks of " + layout.blockSize()
                    + " tokens (" + layout.byteSize() / (1 << 20) + " MiB; max_position_embeddings is " + c.maxPositions()
                    + ") cannot be allocated on " + backend.name() + (shard.world() > 1 ? " (" + shard + ")" : "") + ": "
                    + e.getMessage() + "; set the option kv.blocks to fewer blocks", e);
        }
    }

    @Override
    public void close() {
        graph.close();
        experts.close();
        kvCache.close();
        weights.close();
    }
}
