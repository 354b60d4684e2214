package dev.floe.runtime.model;

import dev.floe.api.ForwardObserver;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.Session;
import dev.floe.runtime.kv.SequenceKv;

import java.util.Arrays;

/** One sequence on a {@link FloeModel}: its KV blocks and position. Not thread-safe. */
final class DecoderSession implements Session {
    private final FloeModel model;
    private final SequenceKv kv;
    private final int capacity;
    private int position;
    private ForwardObserver observer;
    private boolean closed;

    DecoderSession(FloeModel model, SequenceKv kv, int capacity) {
        this.model = model;
        this.kv = kv;
        this.capacity = capacity;
    }

    @Override
    public float[][] prefill(int[] ids) {
        return feed(ids, true);
    }

    @Override
    public float[] prefillLast(int[] ids) {
        float[][] out = feed(ids, false);
        return out[out.length - 1];
    }

    @Override
    public float[] next(int id) {
        return feed(new int[]{id}, false)[0];
    }

    private float[][] feed(int[] ids, boolean allLogits) {
        if (closed) throw new IllegalStateException("session is closed");
        if (ids.length == 0) throw new InvalidRequestException("no tokens to feed");
        model.checkIds(ids);
        if (position + ids.length > capacity) {
            throw new InvalidRequestException(ids.length + " tokens after " + position + " exceed the session's capacity of "
                    + capacity + " tokens (context " + model.config().maxPositions() + ")");
        }
        kv.ensureCapacity(position + ids.length);
        int[] table = kv.table();
        float[][] result = allLogits ? new float[ids.length][] : null;
        float[][] last = null;
        for (int start = 0; start < ids.length; start += LayerGraph.MAX_ROWS) {
            int[] chunk = Arrays.copyOfRange(ids, start, Math.min(ids.length, start + LayerGraph.MAX_ROWS));
            boolean lastChunk = start + chunk.length == ids.length;
            int[] rows = allLogits ? ForwardBatch.range(chunk.length) : lastChunk ? new int[]{chunk.length - 1} : new int[0];
            ForwardBatch batch = ForwardBatch.single(chunk, position, table, rows);
            float[][] logits = model.forward(batch, observer);
            position += chunk.length;
            if (allLogits) System.arraycopy(logits, 0, result, start, logits.length);
            else last = logits;
        }
        return allLogits ? result : last;
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void reset() {
        kv.release();
        position = 0;
    }

    @Override
    public void observer(ForwardObserver o) {
        this.observer = o;
    }

    /** KV blocks the session holds. */
    int kvBlocks() {
        return kv.blocks();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            kv.close();
            model.sessionClosed(this);
        }
    }
}
