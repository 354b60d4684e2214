package dev.floe.runtime.model;

import dev.floe.api.Expert;
import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.parallel.Shard;
import dev.floe.spi.Capability;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.SpiVersion;
import dev.floe.spi.Weight;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The experts placed on the backend, from the model's {@link ExpertStore}: within a capacity in bytes, least
 * recently used evicted first, and a prefetch of the next MoE layer's most used experts when a layer asks for its
 * first expert. The cache has its own lock, never the forward pass's: where the backend allows placement from another
 * thread ({@link Capability#CONCURRENT_WEIGHTS}) a prefetch places experts on a background thread while the pass runs;
 * otherwise it places them on the caller's thread, before the layer needs them.
 */
final class ExpertCache implements AutoCloseable {
    /** Experts of the next layer prefetched: the model's top-k times this. */
    private static final int PREFETCH_FACTOR = 2;

    private final ModelConfig config;
    private final ExpertStore store;
    private final WeightPlacer placer;
    private final long capacityBytes;
    /** Which experts this cache may place: an expert-parallel rank holds its own range only. */
    private final Shard shard;
    private final ExecutorService background;
    /** Access-ordered: the eldest entry is the least recently used. Guarded by this. */
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    /** How often each expert was asked for, {@code [layer][expert]}, to rank prefetches. Guarded by this. */
    private final long[][] uses;
    private final AtomicLong hits = new AtomicLong(), misses = new AtomicLong(), prefetched = new AtomicLong(),
            evicted = new AtomicLong();
    private long residentBytes;
    private int lastLayer = -1;

    /** One expert, placed or being placed. */
    private static final class Entry {
        final int layer;
        final CompletableFuture<ExpertBank.Weights> weights = new CompletableFuture<>();
        long bytes;

        Entry(int layer) {
            this.layer = layer;
        }
    }

    ExpertCache(ModelConfig config, ExpertStore store, WeightPlacer placer, long capacityBytes) {
        this(config, store, placer, capacityBytes, Shard.SINGLE);
    }

    ExpertCache(ModelConfig config, ExpertStore store, WeightPlacer placer, long capacityBytes, Shard shard) {
        this.shard = shard;
        if (capacityBytes < 1) throw new IllegalArgumentException("expert cache capacity " + capacityBytes + " bytes is not positive");
        this.config = config;
        this.store = store;
        this.placer = placer;
        this.capacityBytes = capacityBytes;
        this.uses = new long[config.numLayers()][config.numExperts()];
        boolean concurrent = SpiVersion.effectiveCapabilities(placer.backend()).contains(Capability.CONCURRENT_WEIGHTS);
        this.background = concurrent ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "floe-expert-prefetch");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    ExpertCache(ModelConfig config, ExpertStore store, WeightPlacer placer) {
        this(config, store, placer, Long.MAX_VALUE);
    }

    /** The weights of one expert, placed now if they are not yet. */
    ExpertBank.Weights get(int layer, int expert) {
        if (expert < 0 || expert >= config.numExperts()) {
            throw new IllegalArgumentException("expert " + expert + " of layer " + layer + " is outside [0, " + config.numExperts() + ")");
        }
        if (!shard.holdsExpert(config, expert)) {
            // a routing that reached the wrong rank: placing the expert here would hide a sharding bug
            throw new IllegalStateException("expert " + expert + " of layer " + layer + " is not held by " + shard
                    + " (it holds experts from " + shard.firstExpert(config) + ", " + config.numExperts() / shard.ep() + " of them)");
        }
        Entry e;
        boolean placeHere = false;
        boolean newLayer;
        synchronized (this) {
            uses[layer][expert]++;
            e = entries.get(key(layer, expert));
            if (e == null) {
                e = new Entry(layer);
                entries.put(key(layer, expert), e);
                placeHere = true;
            }
            newLayer = layer != lastLayer;
            lastLayer = layer;
        }
        if (placeHere) {
            misses.incrementAndGet();
            place(e, layer, expert);
        } else {
            hits.incrementAndGet();
        }
        ExpertBank.Weights w = e.weights.join();
        evictBeyondCapacity(layer);
        if (newLayer) prefetch(nextMoeLayer(layer));
        return w;
    }

    /** Places the next MoE layer's most used experts ahead of time. */
    private void prefetch(int layer) {
        if (layer < 0) return;
        List<Integer> wanted = new ArrayList<>();
        List<Entry> started = new ArrayList<>();
        synchronized (this) {
            long[] counts = uses[layer];
            Integer[] order = new Integer[counts.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Long.compare(counts[b], counts[a]));
            for (int i = 0; i < Math.min(order.length, config.topK() * PREFETCH_FACTOR); i++) {
                int x = order[i];
                if (counts[x] == 0 || entries.containsKey(key(layer, x))) continue;
                Entry e = new Entry(layer);
                entries.put(key(layer, x), e);
                wanted.add(x);
                started.add(e);
            }
        }
        for (int i = 0; i < wanted.size(); i++) {
            int x = wanted.get(i);
            Entry e = started.get(i);
            prefetched.incrementAndGet();
            if (background != null) background.execute(() -> place(e, layer, x));
            else place(e, layer, x);
        }
    }

    private int nextMoeLayer(int layer) {
        for (int l = layer + 1; l < config.numLayers(); l++) if (config.isMoeLayer(l)) return l;
        return -1;
    }

    private void place(Entry e, int layer, int expert) {
        try {
            Expert x = store.expert(layer, expert);
            long h = config.hiddenSize(), i = config.intermediateSize();
            ExpertBank.Weights w = new ExpertBank.Weights(place(x.w1(), i, h), place(x.w2(), h, i), place(x.w3(), i, h));
            synchronized (this) {
                e.bytes = w.w1().byteSize() + w.w2().byteSize() + w.w3().byteSize();
                residentBytes += e.bytes;
            }
            e.weights.complete(w);
        } catch (RuntimeException ex) {
            synchronized (this) {
                entries.remove(key(layer, expert), e);
            }
            e.weights.completeExceptionally(ex);
            throw ex;
        }
    }

    /**
     * Evicts the least recently used placed experts until the cache fits its capacity, never one of {@code layer}
     * (the layer being run may still read them).
     */
    private void evictBeyondCapacity(int layer) {
        List<ExpertBank.Weights> gone = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<Long, Entry>> it = entries.entrySet().iterator();
            while (residentBytes > capacityBytes && it.hasNext()) {
                Entry e = it.next().getValue();
                if (e.layer == layer || !e.weights.isDone() || e.weights.isCompletedExceptionally()) continue;
                it.remove();
                residentBytes -= e.bytes;
                gone.add(e.weights.join());
                evicted.incrementAndGet();
            }
        }
        for (ExpertBank.Weights w : gone) {
            for (Weight weight : new Weight[]{w.w1(), w.w2(), w.w3()}) placer.release(weight);
        }
    }

    /** The experts of {@code layer} as the fused MoE operation reads them. */
    ExpertBank bank(int layer) {
        return new ExpertBank() {
            @Override
            public int layer() {
                return layer;
            }

            @Override
            public int experts() {
                return config.numExperts();
            }

            @Override
            public Weights expert(int index) {
                return get(layer, index);
            }
        };
    }

    private Weight place(TensorData t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException("tensor " + t.name() + " from expert store " + store.name() + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return placer.place(t);
    }

    private static long key(int layer, int expert) {
        return ((long) layer << 32) | expert;
    }

    /** Hits, misses, prefetches and evictions so far, and what is resident now. */
    synchronized ExpertCacheStats stats() {
        return new ExpertCacheStats(hits.get(), misses.get(), prefetched.get(), evicted.get(), entries.size(), residentBytes,
                capacityBytes);
    }

    int placedExperts() {
        return stats().resident();
    }

    @Override
    public void close() {
        if (background != null) background.shutdownNow();
    }
}
