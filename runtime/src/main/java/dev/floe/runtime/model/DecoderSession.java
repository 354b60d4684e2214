package dev.floe.runtime.model;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.kv.SequenceKv;

/** One sequence on a {@link FloeModel}: its tokens sit at their positions in the text, up to a capacity. */
final class DecoderSession extends ModelSession {
    private final int capacity;

    DecoderSession(FloeModel model, SequenceKv kv, int capacity) {
        super(model, kv);
        this.capacity = capacity;
    }

    @Override
    int maxChunk() {
        return LayerGraph.MAX_ROWS;
    }

    @Override
    void admit(int n) {
        if (position() + n > capacity) {
            throw new InvalidRequestException(n + " tokens after " + position() + " exceed the session's capacity of "
                    + capacity + " tokens (context " + model.config().maxPositions() + ")");
        }
        kv.ensureCapacity(position() + n);
    }

    @Override
    ForwardBatch batch(int[] chunk, int[] rows) {
        return ForwardBatch.single(chunk, position(), kv.table(), rows);
    }

    @Override
    public int capacity() {
        return capacity;
    }
}
