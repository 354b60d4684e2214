package dev.floe.runtime.serving;

import dev.floe.api.GenerationResult;

import java.util.concurrent.CompletableFuture;

/**
 * A submitted request: its result (completed when it finishes, exceptionally when it fails) and a way to cancel it.
 * Cancelling frees its KV blocks at the engine's next step; the result then finishes with {@code CANCELLED}.
 */
public final class RequestHandle {
    private final long id;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    RequestHandle(long id) {
        this.id = id;
    }

    /** The engine's id of the request. */
    public long id() {
        return id;
    }

    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    /** Asks the engine to stop the request. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelRequested() {
        return cancelled;
    }
}
