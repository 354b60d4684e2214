package dev.floe.backend.cuda;

import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;

/**
 * A paged KV cache in one device allocation: for each layer a key plane and a value plane of
 * {@code [slots, kvHeads * headDim]} floats, planes in the order K0, V0, K1, V1, ...
 */
final class CudaKvCache implements KvCache {
    private final CudaBackend owner;
    private final KvLayout layout;
    private final long address;
    private boolean closed;

    CudaKvCache(CudaBackend owner, KvLayout layout, long address) {
        this.owner = owner;
        this.layout = layout;
        this.address = address;
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    CudaBackend owner() {
        return owner;
    }

    /** Bytes of one plane. */
    static long planeBytes(KvLayout layout) {
        return layout.slots() * layout.rowWidth() * Float.BYTES;
    }

    /** The key plane of {@code layer}. */
    long keys(int layer) {
        return plane(layer, 0);
    }

    /** The value plane of {@code layer}. */
    long values(int layer) {
        return plane(layer, 1);
    }

    private long plane(int layer, int which) {
        if (closed) throw new IllegalStateException("KV cache is closed");
        if (layer < 0 || layer >= layout.layers()) {
            throw new IllegalArgumentException("layer " + layer + " outside the cache's " + layout.layers() + " layers");
        }
        return address + (2L * layer + which) * planeBytes(layout);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.release(address);
    }
}
