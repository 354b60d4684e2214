package dev.floe.backend.cpu;

import dev.floe.api.BackendDevice;
import dev.floe.spi.BackendOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cpu-vector lists one device, the host, and refuses any other. */
class CpuDevicesTest {
    @Test
    void theHostIsTheOneDeviceWithItsPhysicalMemory() {
        List<BackendDevice> devices = new CpuVectorProvider().devices();
        assertEquals(1, devices.size());
        BackendDevice host = devices.getFirst();
        assertEquals(0, host.index());
        assertTrue(host.name().startsWith("host CPU (" + Runtime.getRuntime().availableProcessors() + " cores"), host.name());
        assertTrue(host.memoryBytes() >= Runtime.getRuntime().maxMemory() / 2, "physical memory, not less than half the heap limit");
        assertTrue(host.freeKnown() && host.freeBytes() <= host.memoryBytes(), host.toString());
    }

    @Test
    void onlyDeviceZeroOpens() {
        CpuVectorProvider p = new CpuVectorProvider();
        p.open(new BackendOptions(1, Map.of(), List.of(0))).close();
        var e = assertThrows(IllegalArgumentException.class, () -> p.open(new BackendOptions(1, Map.of(), List.of(1))));
        assertTrue(e.getMessage().contains("cpu-vector has one device, 0 (the host); got 1"), e.getMessage());
    }
}
