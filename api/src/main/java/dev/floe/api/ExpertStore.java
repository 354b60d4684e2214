package dev.floe.api;

/**
 * Supplies expert weights to the layer graph. A store may memory-map the checkpoint and touch only the experts that
 * are routed to, hold everything in memory, or fetch experts from elsewhere. Thread-safe.
 */
public interface ExpertStore extends AutoCloseable {
    /** The store's name, as selected with {@code --expert-store NAME}. */
    String name();

    /** The weights of one expert. */
    Expert expert(int layer, int index);

    /** Bytes of checkpoint mapped into the address space (0 for a store that copies). */
    long bytesMapped();

    /** Bytes of distinct experts handed out so far. */
    long bytesTouched();

    /** Bytes held in memory by the store itself (0 for a mapping store). */
    long bytesResident();

    @Override
    void close();
}
