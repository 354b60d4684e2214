package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;
import dev.floe.spi.Probe;
import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe's decisions, with the driver simulated. */
class CudaProbeTest {
    static final DeviceInfo H200 = new DeviceInfo(0, "NVIDIA H200", 9, 0, 141L << 30, 132);

    static class FakeDriver implements DriverApi {
        private final int version;
        private final DeviceInfo[] devices;

        FakeDriver(int version, DeviceInfo... devices) {
            this.version = version;
            this.devices = devices;
        }

        @Override
        public void init() {
        }

        @Override
        public int driverVersion() {
            return version;
        }

        @Override
        public int deviceCount() {
            return devices.length;
        }

        @Override
        public DeviceInfo device(int ordinal) {
            return devices[ordinal];
        }
    }

    static Probe probe(Supplier<DriverApi> driver, String device) {
        return new CudaProbe(driver, 13000).probe(device);
    }

    @Test
    void missingDriverLibraryIsUnavailableWithTheLibraryName() {
        Probe p = probe(() -> {
            throw new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"\n"
                    + "Stack trace from the attempt to load the library as a resource:\n"
                    + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.0.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory");
        }, null);
        Probe.Unavailable u = assertInstanceOf(Probe.Unavailable.class, p);
        assertTrue(u.reason().contains("libcuda.so.1"), u.reason());
        assertFalse(u.reason().contains("\n"), "one line: " + u.reason());
    }

    @Test
    void laterNoClassDefFoundErrorIsAlsoUnavailable() {
        Probe p = probe(() -> {
            throw new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        }, null);
        assertTrue(p.detail().contains("JCudaDriver"), p.detail());
        assertFalse(p.available());
    }

    @Test
    void initFailureIsUnavailable() {
        Probe p = probe(() -> new DriverApi() {
            @Override
            public void init() {
                throw new BackendException("cuInit failed: CUDA_ERROR_NO_DEVICE (100)");
            }

            @Override
            public int driverVersion() {
                return 13000;
            }

            @Override
            public int deviceCount() {
                return 0;
            }

            @Override
            public DeviceInfo device(int ordinal) {
                throw new AssertionError();
            }
        }, null);
        assertInstanceOf(Probe.Unavailable.class, p);
        assertFalse(p.available(), p.detail());
        assertTrue(p.detail().contains("CUDA_ERROR_NO_DEVICE"), p.detail());
    }

    @Test
    void noDevice() {
        Probe p = probe(() -> new FakeDriver(13000), null);
        assertInstanceOf(Probe.Unavailable.class, p);
        assertFalse(p.available(), p.detail());
        assertTrue(p.detail().contains("no CUDA device"), p.detail());
    }

    @Test
    void oldDriverNamesBothVersions() {
        Probe p = probe(() -> new FakeDriver(12040, H200), null);
        assertFalse(p.available());
        assertTrue(p.detail().contains("12.4") && p.detail().contains("13.0"), p.detail());
    }

    @Test
    void oldDeviceNamesItsCapability() {
        Probe p = probe(() -> new FakeDriver(13000, new DeviceInfo(0, "Tesla T4", 7, 5, 16L << 30, 40)), null);
        assertFalse(p.available());
        assertTrue(p.detail().contains("Tesla T4") && p.detail().contains("7.5"), p.detail());
    }

    @Test
    void deviceSelection() {
        DeviceInfo second = new DeviceInfo(1, "NVIDIA A100", 8, 0, 80L << 30, 108);
        Probe p = probe(() -> new FakeDriver(13000, H200, second), "1");
        assertTrue(p.available(), p.detail());
        assertTrue(p.detail().contains("A100"), p.detail());
        assertTrue(probe(() -> new FakeDriver(13000, H200), "3").detail().contains("cuda.device=3"));
        assertTrue(probe(() -> new FakeDriver(13000, H200), "gpu0").detail().contains("cuda.device=gpu0"));
    }

    @Test
    void availableDescribesTheDevice() {
        Probe p = probe(() -> new FakeDriver(13000, H200), null);
        assertTrue(p.available(), p.detail());
        assertTrue(p.detail().contains("H200") && p.detail().contains("9.0") && p.detail().contains("CUDA 13.0"), p.detail());
    }

    @Test
    void unexpectedRuntimeFailureDoesNotEscape() {
        Probe p = probe(() -> new FakeDriver(13000, H200) {
            @Override
            public DeviceInfo device(int ordinal) {
                throw new IllegalStateException("boom");
            }
        }, null);
        assertFalse(p.available());
        assertTrue(p.detail().contains("boom"));
    }
}
