package dev.floe.tck;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;

import java.util.stream.Stream;

/**
 * The kit as JUnit 5 dynamic tests, one per check: a failed check fails its test, a skipped one (no device, a dtype
 * the backend does not declare) aborts it through {@link Assumptions}, so JUnit reports it skipped. In a backend
 * module:
 *
 * <pre>{@code
 * class MyBackendTck {
 *     @TestFactory
 *     Stream<DynamicTest> tck() {
 *         return TckTests.forBackend("my-backend");
 *     }
 * }
 * }</pre>
 */
public final class TckTests {
    private TckTests() {
    }

    /** Runs the kit on the backend with default options and returns one test per check. */
    public static Stream<DynamicTest> forBackend(String name) {
        return forBackend(name, TckOptions.defaults().withOut(null));
    }

    /** Runs the kit with these options and returns one test per check. */
    public static Stream<DynamicTest> forBackend(String name, TckOptions options) {
        TckReport report = new Tck().run(name, options);
        return report.checks().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Assumptions.assumeTrue(c.outcome() != Outcome.SKIPPED, c.message());
            Assertions.assertEquals(Outcome.PASSED, c.outcome(), c.line());
        }));
    }
}
