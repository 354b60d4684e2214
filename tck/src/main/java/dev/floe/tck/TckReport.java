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
     * The category of checks that run the gating strategies on the host: they pass with any backend, so they alone
     * are no evidence about it.
     */
    static final String HOST_ONLY_CATEGORY = "routing";

    /**
     * True when nothing failed and at least one check {@linkplain #exercisedBackend() exercised the backend}: a run
     * that skipped everything (backend unavailable, every check filtered out or skipped) claims nothing.
     */
    public boolean conforms() {
        return failed == 0 && exercisedBackend();
    }

    /** True when at least one check that uses the backend ran to a verdict (passed or failed) rather than skipping. */
    public boolean exercisedBackend() {
        return checks.stream().anyMatch(c -> c.outcome() != Outcome.SKIPPED && !c.category().equals(HOST_ONLY_CATEGORY));
    }

    /**
     * {@code N passed, N failed, N skipped}, then the same counted over the checks that called the backend, so that
     * checks of Floe's own code do not inflate a backend's count.
     */
    public String summary() {
        List<CheckReport> own = checks.stream().filter(CheckReport::backend).toList();
        return passed + " passed, " + failed + " failed, " + skipped + " skipped (on the backend: "
                + count(own, Outcome.PASSED) + " passed, " + count(own, Outcome.FAILED) + " failed, " + count(own, Outcome.SKIPPED)
                + " skipped; " + (checks.size() - own.size()) + " checks of Floe's own code)";
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
