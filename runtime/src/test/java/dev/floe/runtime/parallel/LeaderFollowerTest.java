package dev.floe.runtime.parallel;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.Providers;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.DeviceGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One rank per "process" (here a thread, each loading the folder itself as a separate JVM would): rank 0 leads, sending
 * each pass through the communicator, the other ranks follow until rank 0 closes its model, and the fixture's golden
 * checks pass on rank 0 as on one device.
 */
class LeaderFollowerTest {
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void followersRunRankZerosPassesUntilItCloses() throws Exception {
        Path dir = Path.of(System.getProperty("floe.root", ".")).resolve("fixtures/tiny-arctic");
        ModelOptions options = ModelOptions.DEFAULTS.withBackend("cpu-vector").withParallel(2, 2);
        var cpu = Providers.named(Providers.backends(), "backend", "cpu-vector").provider();
        try (DeviceGroup g = cpu.openGroup(2, new BackendOptions(2, java.util.Map.of(), List.of()))) {
            CompletableFuture<FloeModel> follower = CompletableFuture.supplyAsync(
                    () -> FloeEngine.loadRank(dir, options, l -> { }, g.backend(1), g.communicator(1)));
            List<String> failed;
            int checks;
            try (FloeModel leader = FloeEngine.loadRank(dir, options, l -> { }, g.backend(0), g.communicator(0))) {
                assertEquals(2, leader.ranks());
                assertTrue(leader.device().contains("rank 0 of one process per rank"), leader.device());
                List<CheckResult> results = GoldenChecks.run(leader, GoldenFixture.load(dir), "tiny-arctic", r -> { });
                checks = results.size();
                failed = results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList();
            }
            assertNull(follower.get(60, TimeUnit.SECONDS), "a follower returns nothing once rank 0 closes");
            assertEquals(List.of(), failed);
            assertTrue(checks >= 3, "checks ran: " + checks);
        }
    }
}
