package dev.floe.backend.cuda;

import dev.floe.api.BackendUnavailableException;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Capability;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The CUDA device group of one process: one rank, refused beyond it; the rest runs in gpu-check.sh. */
class CudaGroupTest {
    @Test
    void moreThanOneRankIsRefusedNamingWhatIsMissing() {
        var e = assertThrows(UnsupportedOperationException.class, () -> new CudaProvider().openGroup(2, BackendOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("one process per GPU"), e.getMessage());
        assertFalse(new CudaProvider().capabilities().contains(Capability.COLLECTIVES),
                "collectives are advertised only once groups of several GPUs open");
    }

    @Test
    void withoutNcclAGroupOfProcessesIsUnavailableNamingTheLibrary() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Nccl.lookup() instanceof Nccl.Unavailable, "libnccl.so.2 is installed here");
        var e = assertThrows(BackendUnavailableException.class, () -> new CudaProvider().groupId(BackendOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("libnccl.so.2"), e.getMessage());
    }

    @Test
    void aGroupIdOfTheWrongSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.join(null, null, 0, 2, new byte[5]));
    }

    @Test
    void withoutAGpuTheGroupOfOneIsUnavailable() {
        assumeFalse(new CudaProvider().probe().available(), "a GPU is present: gpu-check.sh runs the group");
        assertThrows(BackendUnavailableException.class, () -> new CudaProvider().openGroup(1, BackendOptions.DEFAULTS));
    }
}
