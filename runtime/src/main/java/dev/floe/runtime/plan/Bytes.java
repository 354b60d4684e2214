package dev.floe.runtime.plan;

import java.util.Locale;

/** Byte counts as the planner prints them: decimal gigabytes, as GPU memory is sold. */
public final class Bytes {
    private Bytes() {
    }

    /** For example {@code 59.98 GB}. */
    public static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
