package dev.floe.runtime.model;

import dev.floe.api.ForwardObserver;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.Session;
import dev.floe.runtime.kv.SequenceKv;

import java.util.Arrays;

/**
 * A sequence with an attention-sink window: keys are cached before RoPE, each token sits at an index in the cache
 * (not in the text), and when the cache is full the oldest block after the sink is freed and the block table rolls
 * down, so every later key is rotated by its new, smaller index. Until the first eviction it computes exactly what a
 * {@link DecoderSession} computes. Not thread-safe.
 */
final class SinkWindowSession implements Session {
    private final FloeModel model;
    private final SequenceKv kv;
    private final SinkWindow.Layout layout;
    private int cached;
    private int position;
    private ForwardObserver observer;
    private boolean closed;

    SinkWindowSession(FloeModel model, SequenceKv kv, SinkWindow.Layout layout) {
        this.model = model;
        this.kv = kv;
        this.layout = layout;
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
        float[][] result = allLogits ? new float[ids.length][] : null;
        float[][] last = null;
        for (int start = 0; start < ids.length; start += layout.maxChunk()) {
            int[] chunk = Arrays.copyOfRange(ids, start, Math.min(ids.length, start + layout.maxChunk()));
            int n = chunk.length;
            cached -= layout.makeRoom(kv, cached, n);
            kv.ensureCapacity(cached + n);
            int[] pos = new int[n];
            for (int i = 0; i < n; i++) pos[i] = cached + i;
            boolean lastChunk = start + n == ids.length;
            int[] rows = allLogits ? ForwardBatch.range(n) : lastChunk ? new int[]{n - 1} : new int[0];
            float[][] logits = model.forward(new ForwardBatch(chunk, pos, new int[n], new int[][]{kv.table()}, rows, true), observer);
            cached += n;
            position += n;
            if (allLogits) System.arraycopy(logits, 0, result, start, logits.length);
            else last = logits;
        }
        return allLogits ? result : last;
    }

    /** Tokens fed so far (may exceed the model's context). */
    @Override
    public int position() {
        return position;
    }

    /** Unbounded: old tokens leave the window instead. */
    @Override
    public int capacity() {
        return Integer.MAX_VALUE;
    }

    /** Tokens in the cache now. */
    int cachedTokens() {
        return cached;
    }

    @Override
    public void reset() {
        kv.release();
        cached = 0;
        position = 0;
    }

    @Override
    public void observer(ForwardObserver o) {
        this.observer = o;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            kv.close();
        }
    }
}
