package dev.floe.runtime.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could still be the start of a stop string is held back, so what
 * has been emitted never has to be taken back.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds a piece of text and returns what can be emitted now. After a stop, returns the text before it. */
    public String accept(String piece) {
        if (stopped) return "";
        pending.append(piece);
        int earliest = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (earliest < 0 || i < earliest)) earliest = i;
        }
        if (earliest >= 0) {
            stopped = true;
            String out = pending.substring(0, earliest);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) hold = Math.max(hold, overlap(pending, s));
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** Whether a stop string has appeared. */
    public boolean stopped() {
        return stopped;
    }

    /** Whatever is still held back (at the end of generation). */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** The longest suffix of {@code text} that is a proper prefix of {@code stop}. */
    private static int overlap(CharSequence text, String stop) {
        for (int len = Math.min(text.length(), stop.length() - 1); len > 0; len--) {
            boolean match = true;
            for (int i = 0; i < len && match; i++) {
                match = text.charAt(text.length() - len + i) == stop.charAt(i);
            }
            if (match) return len;
        }
        return 0;
    }
}
