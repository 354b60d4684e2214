package dev.floe.runtime.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What rank 0 sends its followers decodes to the pass it ran. */
class PassRelayTest {
    @Test
    void aBatchOfSeveralSequencesSurvivesTheWire() {
        ForwardBatch b = new ForwardBatch(new int[]{5, 31999, 7}, new int[]{0, 4095, 1}, new int[]{1, 0, 1},
                new int[][]{{3, 9, 12}, {0, 70000}}, new int[]{2, 0}, true);
        ForwardBatch d = PassRelay.decode(PassRelay.encode(b));
        assertArrayEquals(b.tokens(), d.tokens());
        assertArrayEquals(b.positions(), d.positions());
        assertArrayEquals(b.sequence(), d.sequence());
        assertEquals(2, d.blockTables().length);
        assertArrayEquals(b.blockTables()[0], d.blockTables()[0]);
        assertArrayEquals(b.blockTables()[1], d.blockTables()[1]);
        assertArrayEquals(b.logitRows(), d.logitRows());
        assertEquals(true, d.keysBeforeRope());
    }

    @Test
    void valuesAFloatCannotHoldAndTruncatedMessagesAreRefused() {
        ForwardBatch big = ForwardBatch.single(new int[]{1}, 0, new int[]{(1 << 24) + 1}, new int[]{0});
        assertThrows(IllegalArgumentException.class, () -> PassRelay.encode(big));
        float[] wire = PassRelay.encode(ForwardBatch.single(new int[]{1, 2}, 0, new int[]{0}, new int[]{1}));
        assertThrows(IllegalStateException.class, () -> PassRelay.decode(java.util.Arrays.copyOf(wire, wire.length - 1)));
    }
}
