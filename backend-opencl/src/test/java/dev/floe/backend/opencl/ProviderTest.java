package dev.floe.backend.opencl;

import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import org.junit.jupiter.api.Test;

import java.lang.module.ModuleDescriptor;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The provider's contract: its name, rank and registration, and a probe that answers instead of throwing. */
class ProviderTest {
    @Test
    void aMissingLibraryIsAnUnavailableAnswerAndTheJvmCanStillRetry() {
        Probe missing = new OpenClProvider("libOpenCL-floe-missing.so.9").probe();
        assertInstanceOf(Probe.Unavailable.class, missing);
        assertTrue(missing.detail().contains("libOpenCL-floe-missing.so.9"), missing.detail());
        // The failed attempt touched nothing: probing the real library gives its own answer, twice alike.
        Probe real = new OpenClProvider().probe();
        assertEquals(real.available(), new OpenClProvider().probe().available());
        assertEquals(missing, new OpenClProvider("libOpenCL-floe-missing.so.9").probe());
    }

    @Test
    void aLibraryThatIsNotOpenClIsRefusedBeforeLwjglSeesIt() {
        Probe libc = new OpenClProvider("libc.so.6").probe();
        assertInstanceOf(Probe.Unavailable.class, libc);
        assertTrue(libc.detail().contains("does not export clGetPlatformIDs"), libc.detail());
        Probe real = new OpenClProvider().probe();
        assertEquals(real.available(), new OpenClProvider().probe().available(), "the real library still answers");
    }

    @Test
    void aDeviceSettingThatMatchesNothingIsUnavailableWithTheReason() {
        Probe real = new OpenClProvider().probe();
        org.junit.jupiter.api.Assumptions.assumeTrue(real.available(), () -> "OpenCL unavailable: " + real.detail());
        String previous = System.getProperty("opencl.device");
        System.setProperty("opencl.device", "no-such-device-anywhere");
        try {
            Probe p = new OpenClProvider().probe();
            assertInstanceOf(Probe.Unavailable.class, p);
            assertTrue(p.detail().contains("opencl.device=no-such-device-anywhere"), p.detail());
        } finally {
            if (previous == null) System.clearProperty("opencl.device");
            else System.setProperty("opencl.device", previous);
        }
    }

    @Test
    void nameRankAndCapabilities() {
        OpenClProvider p = new OpenClProvider();
        assertEquals("opencl", p.name());
        assertEquals(5, p.rank(), "below cpu-vector (10), so the CPU stays the default");
        assertEquals(BackendProvider.SPI_VERSION, p.spiVersion());
        assertTrue(p.capabilities().containsAll(List.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_F16,
                Capability.WEIGHTS_BF16, Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2,
                Capability.DEVICE_MEMORY)));
        assertFalse(p.capabilities().contains(Capability.ZERO_COPY_WEIGHTS));
    }

    @Test
    void theModuleProvidesTheBackendService() {
        ModuleDescriptor descriptor = OpenClProvider.class.getModule().getDescriptor();
        assertNotNull(descriptor, "runs on the module path");
        assertTrue(descriptor.provides().stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(OpenClProvider.class.getName())), descriptor.provides().toString());
    }
}
