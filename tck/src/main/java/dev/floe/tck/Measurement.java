package dev.floe.tck;

/**
 * What one check measured: an error against its tolerance (or a mismatch count against 0).
 *
 * @param message a detail: where the largest error is, what was thrown, what was compared
 */
public record Measurement(double measured, double tolerance, boolean passed, String message) {
    /** Passes when {@code error <= tolerance} (a NaN error fails). */
    public static Measurement ofError(double error, double tolerance, String message) {
        return new Measurement(error, tolerance, error <= tolerance, message);
    }

    /** Passes when nothing mismatched. */
    public static Measurement ofMismatches(int mismatches, String message) {
        return new Measurement(mismatches, 0, mismatches == 0, message);
    }

    /** A yes/no check: 0 when it holds, 1 when not. */
    public static Measurement ofCondition(boolean holds, String message) {
        return new Measurement(holds ? 0 : 1, 0, holds, message);
    }
}
