package dev.floe.runtime.parallel;

import dev.floe.runtime.Backends;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.DeviceGroup;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ranks on threads over the group a provider hands out through the SPI. */
class RankThreadsTest {
    static DeviceGroup cpuGroup(int size) {
        BackendProvider cpu = Backends.providers().stream()
                .filter(p -> p.capabilities().contains(Capability.COLLECTIVES) && p.name().equals("cpu-vector")).findFirst().orElseThrow();
        return cpu.openGroup(size, new BackendOptions(size, Map.of("cpu-vector.group.timeout", "120")));
    }

    @Test
    void everyRankRunsAndTheResultsComeBackInRankOrder() {
        try (DeviceGroup g = cpuGroup(4)) {
            List<Float> sums = RankThreads.run(g, rank -> {
                Backend b = g.backend(rank);
                Buffer x = b.allocate(1);
                b.upload(new float[]{rank}, 0, x, 0, 1);
                g.communicator(rank).allReduceSum(x, 1);
                float[] out = new float[1];
                b.download(x, 0, out, 0, 1);
                return out[0] + rank / 100f;
            });
            assertEquals(List.of(6f, 6.01f, 6.02f, 6.03f), sums);
        }
    }

    @Test
    void theFailingRankIsNamedAndTheOthersDoNotWaitForTheTimeout() {
        try (DeviceGroup g = cpuGroup(3)) {
            BackendException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> assertThrows(BackendException.class,
                    () -> RankThreads.run(g, rank -> {
                        if (rank == 1) throw new IllegalStateException("shard offset 4096 is past the end of w1");
                        g.communicator(rank).barrier();
                        return rank;
                    })));
            assertEquals("rank 1 failed: IllegalStateException: shard offset 4096 is past the end of w1", e.getMessage());
            assertEquals(2, e.getSuppressed().length, "ranks 0 and 2 failed in their barrier because of it");
            for (Throwable s : e.getSuppressed()) assertTrue(s.getMessage().contains("shard offset 4096"), s.getMessage());
        }
    }

    @Test
    void aBackendWithoutGroupsRefusesThroughTheSpiDefault() {
        BackendProvider plain = new BackendProvider() {
            public String name() { return "plain"; }
            public String version() { return "1"; }
            public int rank() { return 0; }
            public dev.floe.spi.Probe probe() { return new dev.floe.spi.Probe.Available("x"); }
            public java.util.Set<Capability> capabilities() { return java.util.Set.of(Capability.WEIGHTS_F32); }
            public Backend open(BackendOptions options) { throw new UnsupportedOperationException(); }
        };
        var e = assertThrows(UnsupportedOperationException.class, () -> plain.openGroup(2, BackendOptions.DEFAULTS));
        assertEquals("backend plain offers no device groups (no comm.collectives)", e.getMessage());
    }
}
