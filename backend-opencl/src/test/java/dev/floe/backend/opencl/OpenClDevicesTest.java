package dev.floe.backend.opencl;

import dev.floe.api.BackendDevice;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** OpenCL lists its devices through LWJGL (on PoCL here) and opens the one chosen by index. */
class OpenClDevicesTest {
    @Test
    void devicesAreListedInPlatformOrderWithTheirGlobalMemory() {
        OpenClProvider provider = new OpenClProvider();
        assumeTrue(provider.probe().available(), () -> "OpenCL unavailable: " + provider.probe().detail());
        List<BackendDevice> devices = provider.devices();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            BackendDevice d = devices.get(i);
            assertEquals(i, d.index());
            assertTrue(d.memoryBytes() > 0, d.toString());
            assertFalse(d.freeKnown(), "OpenCL has no standard free-memory query");
        }
        try (Backend b = provider.open(new BackendOptions(0, Map.of(), List.of(devices.size() - 1)))) {
            assertTrue(b.allocate(4).floats() == 4);
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> provider.open(new BackendOptions(0, Map.of(), List.of(devices.size()))));
        assertTrue(e.getMessage().contains("opencl.device=" + devices.size() + " matches no device"), e.getMessage());
    }

    @Test
    void aMissingLibraryListsNoDevices() {
        assertEquals(List.of(), new OpenClProvider("libOpenCL-that-does-not-exist.so.9").devices());
    }
}
