package dev.floe.spi;

import dev.floe.api.FloeException;

/** A device or driver call failed; the message names the call and its error code. */
public class BackendException extends FloeException {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
