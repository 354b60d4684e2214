package dev.floe.tck;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/** The whole kit on the reference backend (cpu-vector cannot test-depend on the kit: the kit depends on the runtime). */
class CpuVectorTckTest {
    @TestFactory
    Stream<DynamicTest> cpuVectorConforms() {
        return TckTests.forBackend("cpu-vector");
    }
}
