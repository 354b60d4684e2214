package dev.floe.tck;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of a kit run, as published in {@code docs/tck/<backend>.json}.
 *
 * @param capabilities the {@link dev.floe.spi.Capability#id()}s the backend declares (as {@code floe backends} shows)
 * @param probe        the device the probe found, or why the backend is unavailable
 * @param date         ISO-8601 instant of the run
 */
public record TckReport(String tckVersion, String backend, String backendVersion, String device, String probe,
                        List<String> capabilities, String jvm, String os, String date, long seed, double seconds,
                        int passed, int failed, int skipped, List<CheckReport> checks) {
    public TckReport {
        capabilities = List.copyOf(capabilities);
        checks = List.copyOf(checks);
    }

    /**
     * True when nothing failed and at least one check {@linkplain #exercisedBackend() exercised the backend}: a run
     * that skipped everything (backend unavailable, every check filtered out or skipped) claims nothing.
     */
    public boolean conforms() {
        return failed == 0 && exercisedBackend();
    }

    /**
     * True when at least one check that called the backend ({@link CheckReport#backend()}, recorded as each check
     * runs) ran to a verdict (passed or failed) rather than skipping. Checks of Floe's own code (routers against their
     * oracles, the number-format tables) pass with any backend, so they alone are no evidence about it.
     */
    public boolean exercisedBackend() {
        return checks.stream().anyMatch(c -> c.outcome() != Outcome.SKIPPED && c.backend());
    }

    /** {@code N passed, N failed, N skipped}. */
    public String summary() {
        return passed + " passed, " + failed + " failed, " + skipped + " skipped";
    }

    /**
     * The same counted over the checks that called the backend ({@link CheckReport#backend()}), so that checks of
     * Floe's own code do not inflate a backend's count: {@code on the backend: N passed, N failed, N skipped; N checks
     * of Floe's own code}.
     */
    public String backendSummary() {
        List<CheckReport> own = checks.stream().filter(CheckReport::backend).toList();
        return "on the backend: " + count(own, Outcome.PASSED) + " passed, " + count(own, Outcome.FAILED) + " failed, "
                + count(own, Outcome.SKIPPED) + " skipped; " + (checks.size() - own.size()) + " checks of Floe's own code";
    }

    private static long count(List<CheckReport> list, Outcome o) {
        return list.stream().filter(c -> c.outcome() == o).count();
    }

    /** The result of the check of that name. */
    public CheckReport check(String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no check named " + name));
    }

    /** Writes the report as indented JSON (non-finite errors as strings such as "Infinity"). */
    public void writeJson(Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            json.writeValue(file.toFile(), this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the TCK report " + file + ": " + e.getMessage(), e);
        }
    }
}
