package dev.floe.api;

/** The requested backend is not installed or cannot run on this machine; the message says why. */
public class BackendUnavailableException extends FloeException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
