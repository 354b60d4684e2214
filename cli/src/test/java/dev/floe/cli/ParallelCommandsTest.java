package dev.floe.cli;

import org.junit.jupiter.api.Test;

import static dev.floe.cli.CommandsTest.ROOT;
import static dev.floe.cli.CommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --tp} and {@code --ep} on the commands that load a model, on cpu-vector's in-process ranks. */
class ParallelCommandsTest {
    @Test
    void generateOnTwoTensorParallelRanksPrintsTheOneDeviceText() {
        CommandsTest.Run one = run("generate", "def fibonacci(n):\n", "-n", "24", "--quiet-stats", "--backend", "cpu-vector");
        CommandsTest.Run two = run("generate", "def fibonacci(n):\n", "-n", "24", "--quiet-stats", "--backend", "cpu-vector", "--tp", "2");
        assertEquals(0, one.status(), one.err());
        assertEquals(0, two.status(), two.err());
        assertTrue(one.out().length() > "def fibonacci(n):\n".length() + 10, one.out());
        assertEquals(one.out(), two.out());
    }

    @Test
    void checkPassesOnTensorAndExpertParallelRanks() {
        CommandsTest.Run r = run("check", "--tp", "2", "--ep", "2", ROOT.resolve("fixtures/tiny-arctic").toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("2 ranks, tp 2 x ep 2"), r.out());
        assertTrue(r.out().matches("(?s).*\\d+ passed, 0 failed.*"), r.out());
    }

    @Test
    void aBackendWithoutCollectivesIsNamed() {
        CommandsTest.Run r = run("check", "--backend", "opencl", "--tp", "2", ROOT.resolve("fixtures/tiny-mixtral").toString());
        assertNotEquals(0, r.status());
        // opencl is refused for its missing collectives, or (where PoCL is absent) as unavailable: either way by name
        assertTrue(r.err().contains("backend opencl offers no device groups") && r.err().contains("comm.collectives")
                || r.err().contains("opencl is unavailable"), r.err());
    }

    @Test
    void layoutsTheModelCannotTakeAreRefusedNamingTheField() {
        CommandsTest.Run r = run("check", "--tp", "3", ROOT.resolve("fixtures/tiny-mixtral").toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("--tp 3 does not divide num_attention_heads 4"), r.err());
        r = run("check", "--tp", "2", "--ep", "4", ROOT.resolve("fixtures/tiny-mixtral").toString());
        assertTrue(r.err().contains("tp and ep must each be 1 or the same number of ranks"), r.err());
        r = run("check", "--ep", "0", ROOT.resolve("fixtures/tiny-mixtral").toString());
        assertTrue(r.err().contains("--ep 0 must be a positive number of ranks"), r.err());
    }
}
