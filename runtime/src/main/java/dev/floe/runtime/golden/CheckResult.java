package dev.floe.runtime.golden;

/**
 * One conformance check's outcome.
 *
 * @param name      what was checked, e.g. {@code tiny-arctic/prompt.1.logits}
 * @param measured  the measured error (relative logit error, mismatch count...)
 * @param tolerance the largest error that passes
 * @param passed    whether it passed
 * @param message   a detail, e.g. the first mismatching position
 */
public record CheckResult(String name, double measured, double tolerance, boolean passed, String message) {
    public static CheckResult ofError(String name, double error, double tolerance) {
        return new CheckResult(name, error, tolerance, error <= tolerance, "");
    }

    public static CheckResult ofMatch(String name, int mismatches, String detail) {
        return new CheckResult(name, mismatches, 0, mismatches == 0, detail);
    }

    /** One line for a terminal: outcome, name, error and tolerance. */
    public String line() {
        return String.format("%s  %-44s error %.3e  tolerance %.1e%s", passed ? "PASS" : "FAIL", name, measured, tolerance,
                message.isEmpty() ? "" : "  " + message);
    }
}
