package dev.floe.runtime;

import dev.floe.api.BackendDevice;
import dev.floe.api.BackendStatus;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Devices as the runtime sees them: listed by providers, chosen through ModelOptions, checked before opening. */
class BackendDevicesTest {
    /** A provider with two devices, or one that breaks the never-throw promise. */
    static BackendProvider provider(List<BackendDevice> devices, boolean throwing) {
        return new BackendProvider() {
            public String name() { return "fake"; }
            public String version() { return "1"; }
            public int rank() { return 0; }
            public Probe probe() { return new Probe.Available("fake device"); }
            public Set<Capability> capabilities() { return Set.of(Capability.WEIGHTS_F32); }
            public Backend open(BackendOptions options) { throw new UnsupportedOperationException(); }

            @Override
            public List<BackendDevice> devices() {
                if (throwing) throw new IllegalStateException("driver fell over");
                return devices;
            }
        };
    }

    static final List<BackendDevice> TWO = List.of(new BackendDevice(0, "gpu a", 80L << 30, 70L << 30),
            new BackendDevice(1, "gpu b", 80L << 30, BackendDevice.UNKNOWN));

    @Test
    void aDeviceTheProviderDoesNotListIsRefusedWithTheList() {
        BackendProvider p = provider(TWO, false);
        Backends.checkDevices(p, new BackendOptions(0, Map.of(), List.of(1, 0)));
        var e = assertThrows(InvalidRequestException.class, () -> Backends.checkDevices(p, new BackendOptions(0, Map.of(), List.of(2))));
        assertTrue(e.getMessage().contains("--devices: fake has no device 2 (devices: [0 gpu a, 1 gpu b])"), e.getMessage());
    }

    @Test
    void aProviderThatListsNothingJudgesItsOwnDevices() {
        Backends.checkDevices(provider(List.of(), false), new BackendOptions(0, Map.of(), List.of(5)));
        Backends.checkDevices(provider(TWO, true), new BackendOptions(0, Map.of(), List.of(5)));
        assertEquals(List.of(), Backends.safeDevices(provider(TWO, true)));
    }

    @Test
    void statusesCarryTheDevicesOfEveryAvailableProvider() {
        BackendStatus cpu = Backends.statuses().stream().filter(s -> s.name().equals("cpu-vector")).findFirst().orElseThrow();
        assertEquals(1, cpu.devices().size(), cpu.toString());
        assertTrue(cpu.devices().getFirst().memoryBytes() > 0);
    }

    @Test
    void optionsWrittenBeforeDevicesStillWork() {
        ModelOptions old = new ModelOptions("cpu-vector", null, null, 2, Map.of());
        assertEquals(List.of(), old.devices());
        assertEquals(List.of(0), old.withDevices(List.of(0)).devices());
        assertEquals(List.of(0), old.withDevices(List.of(0)).withThreads(4).devices(), "withers keep the devices");
        assertEquals(List.of(), new BackendOptions(1, Map.of()).devices());
        assertEquals(3, new BackendOptions(1, Map.of()).device(3));
        var e = assertThrows(InvalidRequestException.class, () -> old.withDevices(List.of(1, 1)));
        assertTrue(e.getMessage().contains("names a device twice"), e.getMessage());
        assertEquals(List.of(), new BackendStatus("x", "1", 0, true, "d", List.of()).devices());
    }
}
