package dev.floe.runtime.experts;

import dev.floe.api.Expert;
import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;
import dev.floe.spi.TensorSource;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands out expert weights as slices of the memory-mapped checkpoint: an expert's pages are read from disk only when
 * a token is first routed to it, so a 480B-parameter checkpoint needs memory only for the experts in use.
 */
public final class MappedExpertStore implements ExpertStore {
    public static final String NAME = "mapped";

    private final ModelConfig config;
    private final TensorSource tensors;
    private final ConcurrentHashMap<Long, Expert> touched = new ConcurrentHashMap<>();
    private final AtomicLong bytesTouched = new AtomicLong();

    public MappedExpertStore(ModelConfig config, TensorSource tensors) {
        this.config = config;
        this.tensors = tensors;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Expert expert(int layer, int index) {
        ExpertStores.checkIndex(config, layer, index);
        return touched.computeIfAbsent(((long) layer << 32) | index, key -> {
            Expert e = ExpertStores.read(tensors, layer, index);
            bytesTouched.addAndGet(e.byteSize());
            return e;
        });
    }

    @Override
    public long bytesMapped() {
        return tensors.bytesMapped();
    }

    @Override
    public long bytesTouched() {
        return bytesTouched.get();
    }

    @Override
    public long bytesResident() {
        return 0;
    }

    @Override
    public void close() {
        touched.clear();
    }
}
