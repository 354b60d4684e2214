package dev.floe.runtime.experts;

import dev.floe.api.Expert;
import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.WeightArena;
import dev.floe.spi.TensorSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies every expert into process memory when opened: no page faults at run time, at the price of holding all
 * experts resident (the right store for small models and for benchmarks that must not measure the disk). The copies
 * live in a {@link WeightArena}, on huge pages where allowed, which decodes faster than a mapped file's 4 KiB pages.
 */
public final class MemoryExpertStore implements ExpertStore {
    public static final String NAME = "memory";

    private final ModelConfig config;
    private final WeightArena arena = new WeightArena();
    private final Map<Long, Expert> experts = new HashMap<>();
    private final ConcurrentHashMap<Long, Boolean> handedOut = new ConcurrentHashMap<>();
    private final AtomicLong bytesTouched = new AtomicLong();
    private final long resident;

    public MemoryExpertStore(ModelConfig config, TensorSource tensors) {
        this.config = config;
        long bytes = 0;
        try {
            for (int l = 0; l < config.numLayers(); l++) {
                if (!config.isMoeLayer(l)) continue;
                for (int e = 0; e < config.numExperts(); e++) {
                    Expert src = ExpertStores.read(tensors, l, e);
                    Expert copy = new Expert(l, e, copy(src.w1()), copy(src.w2()), copy(src.w3()));
                    experts.put(key(l, e), copy);
                    bytes += copy.byteSize();
                }
            }
        } catch (RuntimeException ex) {
            arena.close();
            throw ex;
        }
        this.resident = bytes;
    }

    private TensorData copy(TensorData t) {
        MemorySegment data = arena.allocate(t.data().byteSize()).copyFrom(t.data());
        TensorData scale = t.scale() == null ? null : copy(t.scale());
        return new TensorData(t.name(), t.dtype(), t.shape(), data, scale);
    }

    private static long key(int layer, int index) {
        return ((long) layer << 32) | index;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Expert expert(int layer, int index) {
        ExpertStores.checkIndex(config, layer, index);
        Expert e = experts.get(key(layer, index));
        if (handedOut.putIfAbsent(key(layer, index), Boolean.TRUE) == null) bytesTouched.addAndGet(e.byteSize());
        return e;
    }

    @Override
    public long bytesMapped() {
        return 0;
    }

    @Override
    public long bytesTouched() {
        return bytesTouched.get();
    }

    @Override
    public long bytesResident() {
        return resident;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** For tests: the experts held. */
    List<Expert> all() {
        return new ArrayList<>(experts.values());
    }
}
