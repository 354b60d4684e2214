package dev.floe.spi;

import dev.floe.api.RoutingDecision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpertRowsTest {
    @Test
    void groupsRowsByExpertInAscendingOrderWithTheirWeights() {
        RoutingDecision d = new RoutingDecision(new int[][]{{2, 0}, {0, 3}, {3, 2}},
                new float[][]{{0.6f, 0.4f}, {0.7f, 0.3f}, {0.9f, 0.1f}});
        List<ExpertRows> groups = ExpertRows.of(d, 4);
        assertEquals(List.of(0, 2, 3), groups.stream().map(ExpertRows::expert).toList(), "expert 1 got no row");
        assertArrayEquals(new int[]{0, 1}, groups.get(0).rows());
        assertArrayEquals(new float[]{0.4f, 0.7f}, groups.get(0).weights());
        assertArrayEquals(new int[]{0, 2}, groups.get(1).rows());
        assertArrayEquals(new float[]{0.6f, 0.1f}, groups.get(1).weights());
        assertArrayEquals(new int[]{1, 2}, groups.get(2).rows());
        assertArrayEquals(new float[]{0.3f, 0.9f}, groups.get(2).weights());
    }

    @Test
    void refusesAnExpertOutsideTheBank() {
        RoutingDecision d = new RoutingDecision(new int[][]{{1}, {4}}, new float[][]{{1f}, {1f}});
        var e = assertThrows(IllegalArgumentException.class, () -> ExpertRows.of(d, 4));
        assertTrue(e.getMessage().contains("row 1 goes to expert 4"), e.getMessage());
    }
}
