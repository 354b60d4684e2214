package dev.floe.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {
    @Test
    void holdsBackAPossibleStartOfAStopString() {
        StopMatcher m = new StopMatcher(List.of("\n\n"));
        assertEquals("abc", m.accept("abc\n"));
        assertEquals("\nx", m.accept("x").isEmpty() ? "" : "\nx");
        assertFalse(m.stopped());
    }

    @Test
    void stopSpanningPiecesIsFound() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("a", m.accept("aE"));
        assertEquals("", m.accept("N"));
        assertEquals("", m.accept("Dtail"));
        assertTrue(m.stopped());
        assertEquals("", m.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("zz", "b"));
        assertEquals("a", m.accept("abzz"));
        assertTrue(m.stopped());
    }

    @Test
    void flushReturnsHeldText() {
        StopMatcher m = new StopMatcher(List.of("xyz"));
        assertEquals("ab", m.accept("abxy"));
        assertEquals("xy", m.flush());
    }
}
