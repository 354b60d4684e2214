package dev.floe.backend.opencl;

import dev.floe.spi.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import static dev.floe.backend.opencl.OpenClTestSupport.assumeOpened;
import static dev.floe.backend.opencl.OpenClTestSupport.openIfAvailable;

/**
 * A test class on one OpenCL backend, opened once for the class (building the program takes seconds on PoCL) and
 * closed after it; each test is skipped, with the probe's reason, where no OpenCL device is found. Test classes run
 * one after another, so the field is never shared by two open classes.
 */
abstract class OpenClTest {
    static Backend backend;

    @BeforeAll
    static void openBackend() {
        backend = openIfAvailable();
    }

    @AfterAll
    static void closeBackend() {
        if (backend != null) backend.close();
        backend = null;
    }

    @BeforeEach
    void requireDevice() {
        assumeOpened(backend);
    }
}
