package dev.floe.backend.cuda;

import dev.floe.api.BackendUnavailableException;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaProviderTest {
    /** The module provides the service (ServiceLoader itself is the runtime's business: it declares the `uses`). */
    @Test
    void providedAsServiceWithNameAndRank() {
        var provides = CudaProvider.class.getModule().getDescriptor().provides();
        assertTrue(provides.stream().anyMatch(p -> p.service().equals(BackendProvider.class.getName())
                && p.providers().contains(CudaProvider.class.getName())), provides.toString());
        BackendProvider cuda = new CudaProvider();
        assertEquals("cuda", cuda.name());
        assertEquals(100, cuda.rank());
        assertEquals(BackendProvider.SPI_VERSION, cuda.spiVersion());
        assertTrue(cuda.capabilities().containsAll(java.util.Set.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_BF16,
                Capability.WEIGHTS_FP8_E4M3, Capability.DEVICE_MEMORY)));
    }

    /** On any machine the real probe answers, twice the same way, and never throws. */
    @Test
    void realProbeAnswersWithoutThrowing() {
        CudaProvider provider = new CudaProvider();
        Probe first = provider.probe();
        Probe second = provider.probe();
        assertNotNull(first.detail());
        assertTrue(!first.detail().isBlank());
        assertEquals(first.available(), second.available());
        if (!first.available()) assertEquals(first.detail(), second.detail());
    }

    /** Where the driver library is absent (the build machines), the real probe says so and names it. */
    @Test
    void realProbeWithoutLibcudaNamesIt() {
        assumeTrue(NativeLibrary.open("libcuda.so.1", null, java.util.List.of()) instanceof NativeLibrary.Missing,
                "libcuda.so.1 is installed here");
        Probe p = new CudaProvider().probe();
        assertFalse(p.available());
        assertTrue(p.detail().contains("libcuda.so.1"), p.detail());
        System.out.println("cuda probe here: " + p.detail());
        // checked before JCuda's library is copied out (a probe without a driver leaves no file behind)
        var missing = assertThrows(UnsatisfiedLinkError.class, JCudaDriverApi::requireDriverLibrary);
        assertTrue(missing.getMessage().contains("libcuda.so.1"), missing.getMessage());
    }

    @Test
    void openWithoutDriverThrowsUnavailableWithTheReason() {
        CudaProvider provider = new CudaProvider(() -> {
            throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file: No such file or directory");
        });
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> provider.open(BackendOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
    }

    @Test
    void prefillOption() {
        assertTrue(!CudaBackend.cublasRequested(null) && !CudaBackend.cublasRequested("kernels"));
        assertTrue(CudaBackend.cublasRequested("cublaslt"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaBackend.cublasRequested("cublas"))
                .getMessage().contains("cuda.prefill=cublas"));
    }

    @Test
    void badDeviceOptionIsNamed() {
        CudaProvider provider = new CudaProvider(() -> new CudaProbeTest.FakeDriver(13000, CudaProbeTest.H200));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> provider.open(new BackendOptions(0, Map.of("cuda.device", "-1"))));
        assertTrue(e.getMessage().contains("cuda.device=-1"), e.getMessage());
    }
}
