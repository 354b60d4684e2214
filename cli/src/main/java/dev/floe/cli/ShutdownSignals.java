package dev.floe.cli;

/**
 * SIGTERM and SIGINT as a request to stop, not a shutdown already under way. A JVM that takes SIGTERM the default
 * way runs its shutdown hooks and exits with status 143 whatever they do; a server that drains wants the signal to
 * start the drain and then to exit normally, with status 0. Where {@code sun.misc.Signal} is unavailable it falls
 * back to a shutdown hook, which only starts the drain: the JVM does not wait for it.
 */
final class ShutdownSignals {
    private ShutdownSignals() {
    }

    static void onTerminate(Runnable action) {
        try {
            for (String name : new String[]{"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            Runtime.getRuntime().addShutdownHook(new Thread(action, "floe-shutdown"));
        }
    }
}
