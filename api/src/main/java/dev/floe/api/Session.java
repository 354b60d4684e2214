package dev.floe.api;

/**
 * One sequence's state (its KV cache) on a model: the low-level interface beneath {@link Model#generate}. Not
 * thread-safe; a model can hold several sessions at once.
 */
public interface Session extends AutoCloseable {
    /** Feeds tokens in one pass and returns the logits at every fed position, {@code [ids.length][vocab]}. */
    float[][] prefill(int[] ids);

    /** Feeds tokens in one pass and returns the logits at the last position only. */
    float[] prefillLast(int[] ids);

    /** Feeds one token and returns the logits after it. */
    float[] next(int id);

    /** Tokens fed so far. */
    int position();

    /** Most tokens this session can hold. */
    int capacity();

    /** Forgets every fed token. */
    void reset();

    /** Sets (or clears, with null) the observer of subsequent passes. */
    void observer(ForwardObserver observer);

    /** Frees the session's KV cache. */
    @Override
    void close();
}
