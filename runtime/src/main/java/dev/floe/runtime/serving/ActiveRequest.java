package dev.floe.runtime.serving;

import dev.floe.api.FinishReason;
import dev.floe.api.GeneratedToken;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.SchedulerState.SequenceView;
import dev.floe.api.TokenSink;
import dev.floe.api.Tokenizer;
import dev.floe.api.TokenLogprobs;
import dev.floe.runtime.generate.StopMatcher;
import dev.floe.runtime.generate.TokenSelector;
import dev.floe.runtime.kv.SequenceKv;

import java.util.Arrays;

/** One request inside the engine: its tokens, KV table and generation state. Engine thread only. */
final class ActiveRequest {
    final long id;
    final GenerationRequest request;
    final TokenSink sink;
    final RequestHandle handle;
    final SequenceKv kv;
    final TokenSelector selector;
    final StopMatcher stops;
    final Tokenizer.StreamingDecoder decoder;
    final int promptTokens;
    final long submittedAt;
    private final StringBuilder text = new StringBuilder();
    /** Prompt followed by every generated token; the last generated one is fed in the next pass. */
    private int[] tokens;
    private int total;
    /** Tokens of the text fed so far. */
    int computed;
    /** Tokens evicted from the front of the attention-sink window (0 without one): the cache holds computed - evicted. */
    int evicted;
    /** Leading KV blocks registered in (or taken from) the prefix cache, and the hash of the last of them. */
    int registered;
    long lastHash;
    int generated;
    /** What the sink threw, if it did (the request was then cancelled). */
    RuntimeException sinkFailure;
    /** Preempted and waiting to run again (not counted against the queue limit). */
    boolean preempted;
    long firstTokenAt;
    long lastTokenAt;

    ActiveRequest(long id, GenerationRequest request, int[] prompt, TokenSink sink, RequestHandle handle, SequenceKv kv,
                  Tokenizer tokenizer) {
        this.id = id;
        this.request = request;
        this.sink = sink;
        this.handle = handle;
        this.kv = kv;
        this.selector = new TokenSelector(request, prompt);
        this.stops = new StopMatcher(request.stop());
        this.decoder = tokenizer.streamingDecoder(true, prompt);
        this.promptTokens = prompt.length;
        this.tokens = Arrays.copyOf(prompt, prompt.length + Math.min(request.maxTokens(), 256));
        this.total = prompt.length;
        this.submittedAt = System.nanoTime();
    }

    /**
     * The scheduler sees the sequence as the cache holds it: evicted tokens are gone from its accounts, and
     * {@code cacheLimit} is the sink window's capacity ({@link Integer#MAX_VALUE} without one).
     */
    SequenceView view(int cacheLimit) {
        return new SequenceView(id, Math.max(0, promptTokens - evicted), computed - evicted, total - evicted, kv.blocks(),
                cacheLimit);
    }

    /** Tokens in the KV cache. */
    int cached() {
        return computed - evicted;
    }

    int total() {
        return total;
    }

    int token(int index) {
        return tokens[index];
    }

    /** The token array itself (prompt then generated, {@link #total()} of them valid); engine thread only, not to be changed. */
    int[] tokenArray() {
        return tokens;
    }

    /** Drops the request's KV (preemption by recomputation): it starts over from its first token. */
    void resetKv() {
        kv.release();
        computed = 0;
        evicted = 0;
        registered = 0;
        lastHash = 0;
    }

    void append(int id) {
        if (total == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[total++] = id;
    }

    boolean cancelled() {
        return handle.cancelRequested() || sink.cancelled();
    }

    /** Streams a piece of text for the newest token. */
    void emit(int id, String piece, TokenLogprobs logprobs) {
        text.append(piece);
        sink.onToken(new GeneratedToken(id, piece, generated - 1, logprobs));
    }

    /** Flushes held-back text and builds the result. */
    GenerationResult finish(FinishReason reason, long now) {
        if (!stops.stopped()) {
            String tail = stops.accept(decoder.flush()) + stops.flush();
            if (!tail.isEmpty() && generated > 0) emit(tokens[total - 1], tail, null);
        }
        long first = firstTokenAt == 0 ? now : firstTokenAt;
        return new GenerationResult(text.toString(), Arrays.copyOfRange(tokens, promptTokens, promptTokens + generated), reason,
                promptTokens, first - submittedAt, now - first);
    }
}
