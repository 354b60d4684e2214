package dev.floe.cli;

/** A one-line progress indicator on stderr, shown only when a terminal is attached. */
final class Progress {
    private final String label;
    private final boolean shown = System.console() != null && System.console().isTerminal();
    private boolean printed;

    Progress(String label) {
        this.label = label;
    }

    void step(int done) {
        if (!shown) return;
        System.err.print("\r" + label + ": " + done + "\u001b[K");
        printed = true;
    }

    void step(long done, long total) {
        if (!shown) return;
        System.err.printf("\r%s: %d/%d (%d%%)\u001b[K", label, done, total, total == 0 ? 100 : done * 100 / total);
        printed = true;
    }

    void done() {
        if (printed) System.err.print("\r\u001b[K");
    }
}
