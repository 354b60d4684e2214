package dev.floe.backend.cuda;

import dev.floe.backend.cuda.CudaBackendHostTest.RecordingDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A CUDA backend over a fresh recording device per test; closing it must free every block. */
abstract class RecordingFixture {
    CudaBackendHostTest.RecordingDevice device;
    CudaBackend cuda;
    Arena arena;

    @BeforeEach
    void open() {
        device = new RecordingDevice();
        cuda = new CudaBackend(device, false);
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        cuda.close();
        arena.close();
        assertTrue(device.live.isEmpty(), "close frees every block");
    }
}
