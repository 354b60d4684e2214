package dev.floe.spi;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PaddedChoicesTest {
    @Test
    void padsShortRowsWithMinusOneAndZero() {
        RoutingDecision d = new RoutingDecision(new int[][]{{2, 0}, {3}, {1, 1}}, new float[][]{{0.6f, 0.4f}, {1f}, {0.5f, 0.25f}});
        PaddedChoices p = PaddedChoices.of(d);
        assertEquals(2, p.k());
        assertArrayEquals(new int[]{2, 0, 3, -1, 1, 1}, p.ids());
        assertArrayEquals(new float[]{0.6f, 0.4f, 1f, 0f, 0.5f, 0.25f}, p.weights());
    }

    @Test
    void aTraceRecordsRowMajorDeviceArraysAsRows() {
        MoeTrace t = new MoeTrace();
        t.record(2, new float[]{1, 2, 3, 4, 5, 6}, new int[]{2, 0, 1, 2}, new float[]{0.7f, 0.3f, 0.6f, 0.4f});
        assertArrayEquals(new float[]{4, 5, 6}, t.logits()[1]);
        assertArrayEquals(new int[]{1, 2}, t.decision().experts()[1]);
        assertArrayEquals(new float[]{0.7f, 0.3f}, t.decision().weights()[0]);
        assertThrows(IllegalArgumentException.class, () -> t.record(4, new float[6], new int[4], new float[4]));
    }
}
