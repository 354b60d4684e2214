package dev.floe.runtime.launch;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A multi-process launch of a model: refused clearly where it cannot run, before any port is bound. */
class LaunchTest {
    static final Path MIXTRAL = Path.of(System.getProperty("floe.root", ".")).resolve("fixtures/tiny-mixtral");

    @Test
    void aLaunchIsAWorldOfMoreThanOneProcess() {
        assertTrue(Launch.launched(Map.of("WORLD_SIZE", "2", "RANK", "0")));
        assertFalse(Launch.launched(Map.of("WORLD_SIZE", "1", "RANK", "0")));
        assertFalse(Launch.launched(Map.of()));
    }

    @Test
    void cpuVectorCannotJoinAGroupOfProcesses() {
        LaunchEnv env = new LaunchEnv(0, 2, 0, "127.0.0.1", 0);
        var e = assertThrows(UnsupportedOperationException.class, () -> Launch.load(MIXTRAL,
                ModelOptions.DEFAULTS.withBackend("cpu-vector").withParallel(2, 1), l -> { }, env));
        assertTrue(e.getMessage().contains("backend cpu-vector cannot join a group of processes"), e.getMessage());
    }

    @Test
    void theWorldMustBeTheLayoutsRanks() {
        LaunchEnv env = new LaunchEnv(0, 4, 0, "127.0.0.1", 0);
        var e = assertThrows(InvalidRequestException.class, () -> Launch.load(MIXTRAL,
                ModelOptions.DEFAULTS.withBackend("cpu-vector").withParallel(2, 2), l -> { }, env));
        assertTrue(e.getMessage().contains("WORLD_SIZE 4 but --tp 2 --ep 2 need 2 processes"), e.getMessage());
    }
}
