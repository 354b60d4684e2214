package dev.floe.backend.cuda;

/**
 * Space management of the pinned host buffer that index arrays pass through on their way to the device. Pieces
 * are handed out in order around a ring; a piece may be rewritten only after the asynchronous copy that read it
 * has run, so wrapping around to the start first requires the stream to be synchronised. With a ring of a few MiB
 * and a few hundred bytes of indices per kernel that happens once per thousands of calls.
 */
final class StagingRing {
    /** Piece alignment: keeps every piece 16-byte aligned for the copy engine. */
    static final int ALIGN = 16;

    private final long capacity;
    private long next;

    StagingRing(long capacity) {
        if (capacity < ALIGN) throw new IllegalArgumentException("staging capacity " + capacity);
        this.capacity = capacity;
    }

    /**
     * Where a piece of {@code bytes} goes.
     *
     * @param offset   byte offset into the ring
     * @param syncFirst the stream must be synchronised before the piece is written (the ring wrapped)
     */
    record Piece(long offset, boolean syncFirst) {
    }

    /** True when a piece of {@code bytes} can ever fit. */
    boolean fits(long bytes) {
        return bytes <= capacity;
    }

    Piece reserve(long bytes) {
        if (!fits(bytes)) throw new IllegalArgumentException(bytes + " bytes exceed the staging ring's " + capacity);
        long size = Math.ceilDiv(Math.max(bytes, 1), ALIGN) * ALIGN;
        boolean wrap = next + size > capacity;
        long offset = wrap ? 0 : next;
        next = offset + size;
        return new Piece(offset, wrap);
    }

    /** After a synchronisation every piece is free: the ring may start over without waiting again. */
    void reset() {
        next = 0;
    }
}
