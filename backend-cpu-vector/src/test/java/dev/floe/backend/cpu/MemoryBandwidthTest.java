package dev.floe.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBandwidthTest {
    @Test
    void measuresAPlausibleFigure() {
        double gbs = MemoryBandwidth.measure(2, 64L << 20, 1);
        // between a floppy disk and an HBM stack: the figure is a rate, not garbage
        assertTrue(gbs > 0.1 && gbs < 10_000, "GB/s " + gbs);
    }

    @Test
    void checksItsArguments() {
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(-1));
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(1, 1000, 1));
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(1, 64L << 20, 0));
    }
}
