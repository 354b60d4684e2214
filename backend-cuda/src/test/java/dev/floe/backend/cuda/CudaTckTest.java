package dev.floe.backend.cuda;

import dev.floe.tck.TckTests;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/** The technology compatibility kit on this backend; every check is skipped where no CUDA device (or provider) is found. */
class CudaTckTest {
    @TestFactory
    Stream<DynamicTest> cudaConforms() {
        return TckTests.forBackend("cuda");
    }
}
