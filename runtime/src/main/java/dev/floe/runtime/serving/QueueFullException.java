package dev.floe.runtime.serving;

import dev.floe.api.FloeException;

/** The engine's request queue is full; the caller should retry later (HTTP 429). */
public final class QueueFullException extends FloeException {
    public QueueFullException(int capacity) {
        super("the request queue is full (" + capacity + " requests waiting); retry later or raise --max-queue");
    }
}
