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
        assertEquals("\nx", m.accept("x"), "the held newline comes out once the next text rules the stop out");
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

    @Test
    void holdsBackExactlyTheLongestSuffixThatCouldStartAStop() {
        StopMatcher m = new StopMatcher(List.of("abc"));
        assertEquals("xx", m.accept("xxab"));
        assertEquals("abd", m.accept("d"));
        StopMatcher repeated = new StopMatcher(List.of("aab"));
        assertEquals("x", repeated.accept("xaa"));
        assertEquals("a", repeated.accept("a"), "of 'aaa' the suffix 'aa' may still start 'aab'");
        assertEquals("", repeated.accept("b"));
        assertTrue(repeated.stopped());
        StopMatcher longStop = new StopMatcher(List.of("abcdef"));
        assertEquals("", longStop.accept("ab"), "text shorter than the stop is all held");
        assertEquals("abx", longStop.accept("x"));
        StopMatcher two = new StopMatcher(List.of("ab", "xyz"));
        assertEquals("1", two.accept("1xy"));
        assertEquals("xy", two.accept("a"), "the longer hold of several stops wins, then shrinks");
        assertEquals("a", two.flush());
        assertEquals("", two.flush(), "flush empties what was held");
    }

    @Test
    void aOneCharacterStopHoldsNothingAndAStopAtTheStartEmitsNothing() {
        StopMatcher dot = new StopMatcher(List.of("."));
        assertEquals("ab", dot.accept("ab"));
        assertEquals("c", dot.accept("c.d"));
        assertTrue(dot.stopped());
        assertEquals("", dot.accept("more"), "nothing after a stop");
        assertEquals("", dot.flush());
        StopMatcher start = new StopMatcher(List.of("\n\n"));
        assertEquals("", start.accept("\n\nabc"));
        assertTrue(start.stopped());
        StopMatcher none = new StopMatcher(List.of());
        assertEquals("a\n\n", none.accept("a\n\n"));
        assertFalse(none.stopped());
        assertEquals("", none.flush());
    }

    @Test
    void theEarliestStopWinsWhateverTheirOrder() {
        StopMatcher m = new StopMatcher(List.of("b", "zz"));
        assertEquals("a", m.accept("azzb"));
        StopMatcher later = new StopMatcher(List.of("zz", "b"));
        assertEquals("a", later.accept("azzb"));
        StopMatcher tie = new StopMatcher(List.of("abc", "ab"));
        assertEquals("x", tie.accept("xabc"));
        java.util.List<String> stops = new java.util.ArrayList<>(List.of("q"));
        StopMatcher copied = new StopMatcher(stops);
        stops.add("a");
        assertEquals("ab", copied.accept("ab"), "the matcher keeps its own copy of the stops");
    }

    // Written for mutants that survived the runtime's mutation run (docs/testing.md).

    @Test
    void aStopAtTheVeryStartWinsOverALaterOne() {
        StopMatcher m = new StopMatcher(List.of("A", "B"));
        assertEquals("", m.accept("AB"), "the stop at index 0 is the earliest; the later B must not replace it");
        assertTrue(m.stopped());
        StopMatcher first = new StopMatcher(List.of("STOP"));
        assertEquals("", first.accept("STOP and more"));
        assertTrue(first.stopped());
    }
}
