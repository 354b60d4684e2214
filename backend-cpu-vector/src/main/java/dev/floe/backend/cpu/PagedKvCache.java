package dev.floe.backend.cpu;

import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

/**
 * A paged KV cache on the heap: per layer, one float array of keys and one of values, {@code slots x rowWidth} floats
 * each. Values are stored a row per slot; keys transposed within each block ({@link Attention#keyIndex}: element
 * {@code e} of a block's rows side by side), so that attention reads one dimension of many positions as a vector.
 */
final class PagedKvCache implements KvCache {
    private final KvLayout layout;
    private final float[][] keys;
    private final float[][] values;
    private final CpuVectorBackend owner;
    private volatile boolean closed;

    PagedKvCache(KvLayout layout, CpuVectorBackend owner) {
        long perLayer = layout.slots() * layout.rowWidth();
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("layout: " + perLayer + " floats per layer exceed a Java array; " + layout);
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (layout.byteSize() > free) {
            throw new IllegalArgumentException("layout: " + layout.byteSize() / (1 << 20)
                    + " MiB of keys and values exceed the " + free / (1 << 20) + " MiB free in the Java heap (-Xmx)");
        }
        this.layout = layout;
        this.owner = owner;
        this.keys = new float[layout.layers()][(int) perLayer];
        this.values = new float[layout.layers()][(int) perLayer];
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    CpuVectorBackend owner() {
        return owner;
    }

    float[] keys(int layer) {
        check(layer);
        return keys[layer];
    }

    float[] values(int layer) {
        check(layer);
        return values[layer];
    }

    private void check(int layer) {
        if (closed) throw new IllegalStateException("KV cache is closed");
        if (layer < 0 || layer >= layout.layers()) {
            throw new IllegalArgumentException("layer " + layer + " is outside the cache's " + layout.layers() + " layers");
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.released(this, layout.byteSize());
    }
}
