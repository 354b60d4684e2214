package dev.floe.api;

/** Receives tokens as they are generated; may ask generation to stop early. */
@FunctionalInterface
public interface TokenSink {
    /** Called once per generated token, on the generating thread. */
    void onToken(GeneratedToken token);

    /** Polled before each step: returning true cancels the request (finish reason {@code CANCELLED}). */
    default boolean cancelled() {
        return false;
    }
}
