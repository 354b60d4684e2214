package dev.floe.api;

import java.nio.file.Path;

/**
 * A loaded model on one backend. Thread-safe: {@link #generate} may be called from several threads, each call using
 * its own {@link Session}. Closing the model frees its device memory and unmaps its files.
 */
public interface Model extends AutoCloseable {
    /** What the model computes. */
    ModelConfig config();

    /** The model's tokenizer. */
    Tokenizer tokenizer();

    /** The folder the model was loaded from. */
    Path source();

    /** The backend that runs it, e.g. {@code cpu-vector}. */
    String backend();

    /** The router in use, e.g. {@code softmax-topk}. */
    String router();

    /** The store that supplies expert weights. */
    ExpertStore expertStore();

    /** Generates a continuation, blocking until done. */
    default GenerationResult generate(GenerationRequest request) {
        return generate(request, token -> { });
    }

    /** Generates a continuation, streaming each token to {@code sink} as it is produced. */
    GenerationResult generate(GenerationRequest request, TokenSink sink);

    /** Opens a low-level session with room for {@code capacity} tokens (at most the model's context). */
    Session newSession(int capacity);

    /** Opens a low-level session with room for the whole context. */
    default Session newSession() {
        return newSession(config().maxPositions());
    }

    @Override
    void close();
}
