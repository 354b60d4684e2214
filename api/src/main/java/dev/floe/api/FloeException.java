package dev.floe.api;

/** Base of every exception Floe throws on purpose. Messages name the file, tensor, field or argument at fault. */
public class FloeException extends RuntimeException {
    public FloeException(String message) {
        super(message);
    }

    public FloeException(String message, Throwable cause) {
        super(message, cause);
    }
}
