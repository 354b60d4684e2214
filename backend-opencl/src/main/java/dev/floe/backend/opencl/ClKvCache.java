package dev.floe.backend.opencl;

import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

/**
 * A paged KV cache: per layer one key and one value memory object of {@code slots * kvHeads * headDim} floats (one
 * object per layer and kind keeps each below the device's maximum allocation size).
 */
final class ClKvCache extends DeviceMemory implements KvCache {
    private final KvLayout layout;
    private final long[] keys;
    private final long[] values;

    ClKvCache(OpenClBackend owner, KvLayout layout, long[] keys, long[] values) {
        super(owner, concat(keys, values), layout.byteSize());
        this.layout = layout;
        this.keys = keys.clone();
        this.values = values.clone();
    }

    long keys(int layer) {
        return keys[layer];
    }

    long values(int layer) {
        return values[layer];
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    String label() {
        return "KV cache " + layout;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
