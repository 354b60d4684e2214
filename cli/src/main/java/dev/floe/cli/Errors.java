package dev.floe.cli;

import dev.floe.api.FloeException;

/** Turns exceptions into the one line a user sees. */
final class Errors {
    private Errors() {
    }

    static String describe(Throwable e) {
        if (e instanceof FloeException || e instanceof IllegalArgumentException) return e.getMessage();
        if (e instanceof OutOfMemoryError) return "out of memory: " + e.getMessage() + " (raise -Xmx through FLOE_JAVA_OPTS)";
        return e.toString();
    }
}
