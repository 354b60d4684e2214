package dev.floe.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StagingRingTest {
    @Test
    void piecesAreAlignedAndDisjointUntilTheRingWraps() {
        StagingRing ring = new StagingRing(64);
        StagingRing.Piece a = ring.reserve(4), b = ring.reserve(20), c = ring.reserve(16);
        assertEquals(new StagingRing.Piece(0, false), a);
        assertEquals(new StagingRing.Piece(16, false), b);
        assertEquals(new StagingRing.Piece(48, false), c);
        StagingRing.Piece d = ring.reserve(4);
        assertTrue(d.syncFirst(), "the ring is full: reusing its start needs a synchronisation");
        assertEquals(0, d.offset());
        assertFalse(ring.reserve(8).syncFirst());
    }

    @Test
    void resetAfterSynchronisationStartsOver() {
        StagingRing ring = new StagingRing(64);
        ring.reserve(40);
        ring.reset();
        assertEquals(new StagingRing.Piece(0, false), ring.reserve(64));
    }

    @Test
    void oversizedPiecesAreRefused() {
        StagingRing ring = new StagingRing(64);
        assertFalse(ring.fits(65));
        assertThrows(IllegalArgumentException.class, () -> ring.reserve(65));
    }
}
