package dev.floe.api;

/** Why generation ended. */
public enum FinishReason {
    /** The end-of-sequence token was produced. */
    EOS,
    /** A stop string appeared. */
    STOP,
    /** {@code maxTokens} were generated. */
    LENGTH,
    /** The model's context is full. */
    CONTEXT,
    /** The caller cancelled. */
    CANCELLED
}
