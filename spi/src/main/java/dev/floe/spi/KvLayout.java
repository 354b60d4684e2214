package dev.floe.spi;

/**
 * Shape of a paged KV cache: {@code blocks} blocks of {@code blockSize} token slots, each slot holding one key and one
 * value vector of {@code kvHeads * headDim} floats per layer. Slot {@code s} is block {@code s / blockSize}, offset
 * {@code s % blockSize}.
 */
public record KvLayout(int layers, int kvHeads, int headDim, int blocks, int blockSize) {
    public KvLayout {
        if (layers < 1 || kvHeads < 1 || headDim < 1 || blocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV layout needs positive sizes: layers " + layers + ", kvHeads " + kvHeads
                    + ", headDim " + headDim + ", blocks " + blocks + ", blockSize " + blockSize);
        }
    }

    /** Token slots in the cache. */
    public long slots() {
        return (long) blocks * blockSize;
    }

    /** Floats of one key (or value) row. */
    public int rowWidth() {
        return kvHeads * headDim;
    }

    /** Bytes of keys and values for all layers. */
    public long byteSize() {
        return 2L * layers * slots() * rowWidth() * Float.BYTES;
    }
}
