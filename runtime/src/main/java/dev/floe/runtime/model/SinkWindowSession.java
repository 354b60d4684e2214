package dev.floe.runtime.model;

import dev.floe.runtime.kv.SequenceKv;

/**
 * A sequence with an attention-sink window: keys are cached before RoPE, each token sits at an index in the cache
 * (not in the text), and when the cache is full the oldest block after the sink is freed and the block table rolls
 * down, so every later key is rotated by its new, smaller index. Until the first eviction it computes exactly what a
 * {@link DecoderSession} computes. Its {@link #position()}, the tokens fed so far, may exceed the model's context.
 */
final class SinkWindowSession extends ModelSession {
    private final SinkWindow.Layout layout;
    private int cached;

    SinkWindowSession(FloeModel model, SequenceKv kv, SinkWindow.Layout layout) {
        super(model, kv);
        this.layout = layout;
    }

    @Override
    int maxChunk() {
        return layout.maxChunk();
    }

    @Override
    ForwardBatch batch(int[] chunk, int[] rows) {
        int n = chunk.length;
        cached -= layout.makeRoom(kv, cached, n);
        kv.ensureCapacity(cached + n);
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) pos[i] = cached + i;
        return new ForwardBatch(chunk, pos, new int[n], new int[][]{kv.table()}, rows, true);
    }

    @Override
    void fed(int n) {
        cached += n;
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
        super.reset();
        cached = 0;
    }
}
