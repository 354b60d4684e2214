package dev.floe.cli;

import org.junit.jupiter.api.Test;

import static dev.floe.cli.CommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code floe tck}'s exit status: a run is a conformance claim only when a check exercised the backend. */
class TckCommandTest {
    @Test
    void aPassingKernelCheckConforms() {
        CommandsTest.Run r = run("tck", "--backend", "cpu-vector", "--no-bundled", "--filter", "^kernel\\.add\\.n=1$");
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("1 passed, 0 failed, 0 skipped"), r.out());
    }

    @Test
    void aFilterThatSelectsNothingChecksNothing() {
        CommandsTest.Run r = run("tck", "--backend", "cpu-vector", "--no-bundled", "--filter", "^no-such-check$");
        assertEquals(TckCommand.NOTHING_CHECKED, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("nothing exercised backend 'cpu-vector' (0 passed, 0 failed, 0 skipped"), r.err());
    }

    @Test
    void hostOnlyRoutingChecksAreNoClaimAboutTheBackend() {
        CommandsTest.Run r = run("tck", "--backend", "cpu-vector", "--no-bundled", "--filter", "^routing\\.hash");
        assertTrue(r.out().matches("(?s).*[1-9][0-9]* passed, 0 failed.*"), r.out());
        assertEquals(TckCommand.NOTHING_CHECKED, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("no conformance claim"), r.err());
    }

    @Test
    void anUnavailableBackendChecksNothing() {
        // cuda's probe fails without an NVIDIA driver; on a machine with a GPU the same check must pass instead
        CommandsTest.Run r = run("tck", "--backend", "cuda", "--no-bundled", "--filter", "^kernel\\.add\\.n=1$");
        if (r.out().contains("(unavailable: ")) {
            assertTrue(r.out().contains("0 passed, 0 failed, 1 skipped"), r.out());
            assertEquals(TckCommand.NOTHING_CHECKED, r.status(), r.out() + r.err());
            assertTrue(r.err().contains("nothing exercised backend 'cuda'") && r.err().contains("unavailable: "), r.err());
        } else {
            assertEquals(0, r.status(), r.out() + r.err());
        }
    }

    @Test
    void anAbsentBackendIsAUsageError() {
        CommandsTest.Run r = run("tck", "--backend", "no-such-backend");
        assertEquals(2, r.status(), r.out() + r.err());
    }
}
