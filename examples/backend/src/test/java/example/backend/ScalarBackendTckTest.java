package example.backend;

import dev.floe.tck.TckTests;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/** The whole Floe TCK as JUnit tests, one per check, named after it; the name ends in Test so Surefire runs it. */
class ScalarBackendTckTest {
    @TestFactory
    Stream<DynamicTest> conforms() {
        return TckTests.forBackend("example-scalar");
    }
}
