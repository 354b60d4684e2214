package dev.floe.backend.opencl;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Device selection by {@code opencl.platform} and {@code opencl.device}, on made-up device lists. */
class DeviceChoiceTest {
    private static ClDevice device(int platform, String platformName, long id, String name, boolean gpu) {
        return new ClDevice(platform, platformName, id, name, gpu, gpu ? "GPU" : "CPU", "OpenCL 3.0", 1L << 30,
                1L << 28, 48 << 10, 1024);
    }

    private static final ClDevice POCL = device(0, "Portable Computing Language", 1, "pthread-skylake", false);
    private static final ClDevice H100 = device(1, "NVIDIA CUDA", 2, "NVIDIA H100 80GB HBM3", true);
    private static final ClDevice A10 = device(1, "NVIDIA CUDA", 3, "NVIDIA A10", true);
    private static final List<ClDevice> ALL = List.of(POCL, H100, A10);

    @Test
    void prefersTheFirstGpuElseTheFirstDevice() {
        assertEquals(H100, DeviceChoice.select(ALL, null, null));
        assertEquals(POCL, DeviceChoice.select(List.of(POCL), "", " "));
    }

    @Test
    void selectsByIndexOrNameSubstring() {
        assertEquals(POCL, DeviceChoice.select(ALL, null, "0"));
        assertEquals(A10, DeviceChoice.select(ALL, null, "2"));
        assertEquals(A10, DeviceChoice.select(ALL, null, "a10"));
        assertEquals(POCL, DeviceChoice.select(ALL, null, "PTHREAD"));
    }

    @Test
    void aPlatformNarrowsTheDevicesAndTheirIndices() {
        assertEquals(POCL, DeviceChoice.select(ALL, "portable", null));
        assertEquals(A10, DeviceChoice.select(ALL, "1", "1"));
        assertEquals(H100, DeviceChoice.select(ALL, "nvidia", null));
    }

    @Test
    void noMatchNamesTheSettingAndListsTheChoices() {
        var e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.select(ALL, null, "7"));
        assertTrue(e.getMessage().contains("opencl.device=7") && e.getMessage().contains("2: NVIDIA A10"), e.getMessage());
        var p = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.select(ALL, "amd", null));
        assertTrue(p.getMessage().contains("opencl.platform=amd") && p.getMessage().contains("NVIDIA CUDA"), p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.select(List.of(), null, null));
    }
}
