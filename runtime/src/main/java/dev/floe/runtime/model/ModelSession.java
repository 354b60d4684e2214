package dev.floe.runtime.model;

import dev.floe.api.ForwardObserver;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.Session;
import dev.floe.runtime.kv.SequenceKv;

import java.util.Arrays;

/**
 * What every session on a {@link FloeModel} shares: its KV blocks, its position, the observer, and feeding tokens in
 * chunks of at most {@link #maxChunk()} rows, each one forward pass that computes the logits of the rows asked for.
 * The subclasses decide where the chunk's tokens sit in the cache. Not thread-safe.
 */
abstract sealed class ModelSession implements Session permits DecoderSession, SinkWindowSession {
    final FloeModel model;
    final SequenceKv kv;
    private int position;
    private ForwardObserver observer;
    private boolean closed;

    ModelSession(FloeModel model, SequenceKv kv) {
        this.model = model;
        this.kv = kv;
    }

    /** Most tokens in one forward pass. */
    abstract int maxChunk();

    /** Checks that {@code n} more tokens may be fed before any is, after {@link #position()} tokens. */
    void admit(int n) {
    }

    /** The batch of one chunk, with KV room made for it; {@code rows} are the rows whose logits are wanted. */
    abstract ForwardBatch batch(int[] chunk, int[] rows);

    /** Called after a chunk's pass. */
    void fed(int n) {
    }

    @Override
    public final float[][] prefill(int[] ids) {
        return feed(ids, true);
    }

    @Override
    public final float[] prefillLast(int[] ids) {
        float[][] out = feed(ids, false);
        return out[out.length - 1];
    }

    @Override
    public final float[] next(int id) {
        return feed(new int[]{id}, false)[0];
    }

    private float[][] feed(int[] ids, boolean allLogits) {
        if (closed) throw new IllegalStateException("session is closed");
        if (ids.length == 0) throw new InvalidRequestException("no tokens to feed");
        model.checkIds(ids);
        admit(ids.length);
        float[][] result = allLogits ? new float[ids.length][] : null;
        float[][] last = null;
        for (int start = 0; start < ids.length; start += maxChunk()) {
            int[] chunk = Arrays.copyOfRange(ids, start, Math.min(ids.length, start + maxChunk()));
            boolean lastChunk = start + chunk.length == ids.length;
            int[] rows = allLogits ? ForwardBatch.range(chunk.length) : lastChunk ? new int[]{chunk.length - 1} : new int[0];
            float[][] logits = model.forward(batch(chunk, rows), observer);
            position += chunk.length;
            fed(chunk.length);
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
    public void reset() {
        kv.release();
        position = 0;
    }

    @Override
    public final void observer(ForwardObserver o) {
        this.observer = o;
    }

    /** KV blocks the session holds. */
    final int kvBlocks() {
        return kv.blocks();
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            kv.close();
            model.sessionClosed(this);
        }
    }
}
