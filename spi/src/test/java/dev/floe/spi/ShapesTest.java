package dev.floe.spi;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SPI's value types: KV layout arithmetic, attention batches and backend options. */
class ShapesTest {
    @Test
    void kvLayoutSizes() {
        KvLayout l = new KvLayout(3, 2, 64, 10, 16);
        assertEquals(160, l.slots());
        assertEquals(128, l.rowWidth());
        assertEquals(2L * 3 * 160 * 128 * 4, l.byteSize());
        assertEquals(2L * 1 * 1 * 1 * 4, new KvLayout(1, 1, 1, 1, 1).byteSize(), "the smallest layout");
        // sizes past 2^31 do not overflow
        assertEquals(1L << 20, new KvLayout(80, 8, 128, 65536, 16).slots());
        assertEquals(687_194_767_360L, new KvLayout(80, 8, 128, 65536, 16).byteSize(), "2 * 80 layers * 2^20 slots * 1024 * 4");
    }

    @Test
    void kvLayoutRejectsEveryNonPositiveSize() {
        int[][] bad = {{0, 1, 1, 1, 1}, {1, 0, 1, 1, 1}, {1, 1, 0, 1, 1}, {1, 1, 1, 0, 1}, {1, 1, 1, 1, 0}, {1, 1, -1, 1, 1}};
        for (int[] b : bad) {
            String m = assertThrows(IllegalArgumentException.class, () -> new KvLayout(b[0], b[1], b[2], b[3], b[4])).getMessage();
            assertEquals("KV layout needs positive sizes: layers " + b[0] + ", kvHeads " + b[1] + ", headDim " + b[2]
                    + ", blocks " + b[3] + ", blockSize " + b[4], m);
        }
    }

    @Test
    void attentionBatchSlotsFollowTheBlockTables() {
        AttentionBatch b = new AttentionBatch(8, new int[]{0, 17, 3}, new int[]{0, 0, 1}, new int[][]{{4, 2}, {7}});
        assertEquals(3, b.rows());
        assertEquals(4 * 16, b.slot(0, 0, 16));
        assertEquals(2 * 16 + 1, b.slot(0, 17, 16), "position 17: second block, offset 1");
        assertEquals(7 * 16 + 3, b.slot(1, 3, 16));
        assertEquals(17, b.position(1));
        assertEquals(1, b.sequenceOf(2));
        assertArrayEquals(new int[]{4, 2}, b.blockTable(0));
        assertFalse(b.rotatesKeys());
        assertTrue(new AttentionBatch(8, new int[]{0}, new int[]{0}, new int[][]{{0}}, 1e4f).rotatesKeys());
        AttentionBatch single = AttentionBatch.single(4, new int[]{5, 6}, new int[]{3});
        assertArrayEquals(new int[]{0, 0}, single.sequence());
        assertEquals(3 * 16 + 6, single.slot(0, 6, 16));
    }

    @Test
    void attentionBatchIsValidatedAndDefendsItsArrays() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new AttentionBatch(8, new int[]{0, 1}, new int[]{0}, new int[][]{{0}}))
                .getMessage().contains("2 positions but 1 sequence indices"));
        for (float theta : new float[]{-1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new AttentionBatch(8, new int[]{0}, new int[]{0}, new int[][]{{0}}, theta))
                    .getMessage().contains("keyRopeTheta: " + theta));
        }
        int[] positions = {1};
        int[][] tables = {{5}};
        AttentionBatch b = new AttentionBatch(8, positions, new int[]{0}, tables);
        positions[0] = 9;
        tables[0][0] = 9;
        assertEquals(1, b.position(0));
        assertEquals(5 * 16, b.slot(0, 0, 16));
        b.positions()[0] = 9;
        b.blockTables()[0][0] = 9;
        b.sequence()[0] = 9;
        assertArrayEquals(new int[]{1}, b.positions());
        assertArrayEquals(new int[]{5}, b.blockTables()[0]);
        assertArrayEquals(new int[]{0}, b.sequence());
    }

    @Test
    void backendOptionsCopyTheirProperties() {
        Map<String, String> props = new HashMap<>(Map.of("opencl.device", "1"));
        BackendOptions o = new BackendOptions(2, props);
        props.put("opencl.device", "2");
        assertEquals("1", o.property("opencl.device", "0"));
        assertEquals("fallback", o.property("missing", "fallback"));
        assertEquals(0, BackendOptions.DEFAULTS.threads());
        assertThrows(UnsupportedOperationException.class, () -> o.properties().put("x", "y"));
    }
}
