package dev.floe.tck;

import java.util.Locale;

/**
 * The result of one check, as printed and written to the JSON report.
 *
 * @param category kernel, model, behaviour or routing
 * @param measured the measured error (NaN when skipped or when the check threw)
 * @param seconds  wall time of the check
 * @param backend  whether the check called the backend under test; checks of Floe's own code (number formats,
 *                 routers against their oracles) do not, and reports count them apart
 */
public record CheckReport(String category, String name, double measured, double tolerance, Outcome outcome,
                          String message, double seconds, boolean backend) {
    /** A result of a check that called the backend (the signature of kit 1.0). */
    public CheckReport(String category, String name, double measured, double tolerance, Outcome outcome, String message,
                       double seconds) {
        this(category, name, measured, tolerance, outcome, message, seconds, true);
    }

    /** One terminal line: outcome, name, measured error, tolerance, detail. */
    public String line() {
        String error = Double.isNaN(measured) ? "        -" : String.format(Locale.ROOT, "%.3e", measured);
        String tol = Double.isNaN(tolerance) ? "      -" : String.format(Locale.ROOT, "%.1e", tolerance);
        return String.format(Locale.ROOT, "%-4s  %-9s %-58s error %s  tolerance %s%s", switch (outcome) {
            case PASSED -> "PASS";
            case FAILED -> "FAIL";
            case SKIPPED -> "SKIP";
        }, category, name, error, tol, message == null || message.isEmpty() ? "" : "  " + message);
    }
}
