package dev.floe.backend.opencl;

import dev.floe.tck.TckTests;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/** The technology compatibility kit on this backend; every check is skipped where no OpenCL device is found. */
class OpenClTckTest {
    @TestFactory
    Stream<DynamicTest> openClConforms() {
        return TckTests.forBackend("opencl");
    }
}
