package dev.floe.cli;

import org.junit.jupiter.api.Test;

import static dev.floe.cli.CommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code floe backends} lists devices; {@code --devices} chooses among them. */
class DevicesCommandTest {
    @Test
    void backendsListTheHostAsCpuVectorsDevice() {
        CommandsTest.Run r = run("backends");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().matches("(?s).*cpu-vector .*\\n {12}device 0: host CPU \\(\\d+ cores, [^)]+\\), \\d+\\.\\d GiB, \\d+\\.\\d GiB free\\n.*"),
                r.out());
    }

    @Test
    void aDeviceThatDoesNotExistIsNamed() {
        CommandsTest.Run r = run("generate", "def f", "-n", "1", "--quiet-stats", "--backend", "cpu-vector", "--devices", "1");
        assertEquals(2, r.status(), r.out());
        assertTrue(r.err().contains("--devices: cpu-vector has no device 1 (devices: [0 host CPU"), r.err());
        r = run("generate", "def f", "-n", "1", "--quiet-stats", "--backend", "cpu-vector", "--devices", "0");
        assertEquals(0, r.status(), r.err());
    }
}
