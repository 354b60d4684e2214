package dev.floe.tck;

import java.util.Locale;

/**
 * The result of one check, as printed and written to the JSON report.
 *
 * @param category kernel, model, behaviour or routing
 * @param measured the measured error (NaN when skipped or when the check threw)
 * @param seconds  wall time of the check
 */
public record CheckReport(String category, String name, double measured, double tolerance, Outcome outcome,
                          String message, double seconds) {
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
