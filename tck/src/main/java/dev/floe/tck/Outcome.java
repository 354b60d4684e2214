package dev.floe.tck;

/** How a check ended. */
public enum Outcome {
    PASSED, FAILED, SKIPPED
}
