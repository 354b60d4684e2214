package dev.floe.tck;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;

import java.util.stream.Stream;

/**
 * The kit as JUnit 5 dynamic tests, one per check: a failed check fails its test, a skipped one (no device, a dtype
 * the backend does not declare, a fixture that cannot be read) aborts it through {@link Assumptions} with the reason,
 * so JUnit reports it skipped, never absent. Each test is named after its check ({@code kernel.matmul.bf16...}). The
 * golden fixtures travel inside the kit's jar ({@link BundledFixtures}), so every check runs without a Floe checkout.
 * In a backend module, a class whose name ends in {@code Test} (Surefire's default pattern runs it):
 *
 * <pre>{@code
 * class MyBackendTckTest {
 *     @TestFactory
 *     Stream<DynamicTest> conforms() {
 *         return TckTests.forBackend("my-backend");
 *     }
 * }
 * }</pre>
 *
 * Surefire names dynamic tests {@code conforms()[91]} unless its JUnit 5 reporters use phrased names; the
 * configuration is in {@code docs/writing-a-backend.md} and {@code examples/backend/pom.xml}.
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
