package dev.floe.backend.cuda;

import dev.floe.api.BackendDevice;
import dev.floe.spi.BackendException;
import dev.floe.spi.BackendOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider's device list over a simulated driver (no GPU here), and the device choice that follows it. */
class CudaDevicesTest {
    static final DeviceInfo H100 = new DeviceInfo(0, "NVIDIA H100 80GB HBM3", 9, 0, 85_520_809_984L, 132);
    static final DeviceInfo H100B = new DeviceInfo(1, "NVIDIA H100 80GB HBM3", 9, 0, 85_520_809_984L, 132);

    /** Two devices; the second refuses a context (another process holds it in exclusive mode). */
    static final class TwoDevices extends CudaProbeTest.FakeDriver {
        TwoDevices() {
            super(13000, H100, H100B);
        }

        @Override
        public long freeMemory(int ordinal) {
            if (ordinal == 1) throw new BackendException("cuDevicePrimaryCtxRetain(1) failed: CUDA_ERROR_DEVICE_UNAVAILABLE (46)");
            return 84_000_000_000L;
        }
    }

    @Test
    void everyDeviceIsListedWithItsMemoryAndFreeMemoryWhereTheDriverSays() {
        List<BackendDevice> devices = new CudaProvider(TwoDevices::new).devices();
        assertEquals(2, devices.size());
        assertEquals(new BackendDevice(0, "NVIDIA H100 80GB HBM3 (compute capability 9.0)", 85_520_809_984L, 84_000_000_000L),
                devices.get(0));
        assertEquals(1, devices.get(1).index());
        assertEquals(BackendDevice.UNKNOWN, devices.get(1).freeBytes(), "a busy device is listed, its free memory unknown");
    }

    @Test
    void noDriverMeansNoDevicesAndNoException() {
        assertEquals(List.of(), new CudaProvider(() -> {
            throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
        }).devices());
        assertEquals(List.of(), new CudaProvider(() -> new CudaProbeTest.FakeDriver(13000) {
            @Override
            public void init() {
                throw new BackendException("cuInit failed: CUDA_ERROR_NO_DEVICE (100)");
            }
        }).devices());
    }

    @Test
    void aChosenDeviceWinsOverTheProperty() {
        assertEquals("1", DeviceSelection.setting(new BackendOptions(0, Map.of("cuda.device", "0"), List.of(1, 0))));
        assertEquals("0", DeviceSelection.setting(new BackendOptions(0, Map.of("cuda.device", "0"))));
        var found = new CudaProbe(TwoDevices::new, 13000).find(DeviceSelection.setting(new BackendOptions(0, Map.of(), List.of(1))));
        assertEquals(1, ((CudaProbe.Found) found).device().ordinal());
        var missing = new CudaProbe(TwoDevices::new, 13000).find(DeviceSelection.setting(new BackendOptions(0, Map.of(), List.of(2))));
        assertTrue(((CudaProbe.Missing) missing).reason().contains("cuda.device=2 but only 2 CUDA device(s) exist"), missing.toString());
    }
}
