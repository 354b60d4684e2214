package dev.floe.runtime.checkpoint;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link WeightArena}: zeroed, aligned, disjoint segments from huge-page slabs where the platform allows. */
class WeightArenaTest {

    @Test
    void segmentsAreZeroedAlignedAndDisjoint() {
        long[] sizes = {1, 63, 64, 4096, 3L << 20, 0, 100, 5L << 20, 17};
        try (WeightArena arena = new WeightArena()) {
            List<MemorySegment> segments = new ArrayList<>();
            for (long size : sizes) {
                MemorySegment m = arena.allocate(size);
                assertEquals(size, m.byteSize());
                assertEquals(0, m.address() % 64, "64-byte alignment of a " + size + "-byte segment");
                for (long o = 0; o < size; o += 997) assertEquals(0, m.get(ValueLayout.JAVA_BYTE, o), "zeroed");
                segments.add(m);
            }
            for (int i = 0; i < segments.size(); i++) {
                MemorySegment m = segments.get(i);
                if (m.byteSize() > 0) m.fill((byte) (i + 1));
            }
            for (int i = 0; i < segments.size(); i++) {
                MemorySegment m = segments.get(i);
                if (m.byteSize() == 0) continue;
                assertEquals((byte) (i + 1), m.get(ValueLayout.JAVA_BYTE, 0), "segment " + i + " overwritten by another");
                assertEquals((byte) (i + 1), m.get(ValueLayout.JAVA_BYTE, m.byteSize() - 1), "segment " + i + " overwritten by another");
            }
        }
    }

    @Test
    void hugePagesWhereLinuxAllowsNativeAccess() {
        boolean allowed = System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("linux")
                && WeightArena.class.getModule().isNativeAccessEnabled()
                && !Boolean.getBoolean("floe.weights.no-huge-pages") && !thpNever();
        assertEquals(allowed, WeightArena.hugePagesAvailable());
        try (WeightArena arena = new WeightArena()) {
            MemorySegment first = arena.allocate(100);
            if (allowed) {
                assertEquals(0, first.address() % WeightArena.HUGE_PAGE, "a slab starts on a huge page");
                assertTrue(arena.hugePageBytes() >= WeightArena.HUGE_PAGE, "bytes advised: " + arena.hugePageBytes());
            } else {
                assertEquals(0, arena.hugePageBytes());
            }
        }
    }

    private static boolean thpNever() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).contains("[never]");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void closedArenaSegmentsCannotBeRead() {
        WeightArena arena = new WeightArena();
        MemorySegment m = arena.allocate(256);
        arena.close();
        arena.close(); // twice is harmless
        assertFalse(m.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> m.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void negativeSizeNamesTheValue() {
        try (WeightArena arena = new WeightArena()) {
            var e = assertThrows(IllegalArgumentException.class, () -> arena.allocate(-5));
            assertTrue(e.getMessage().contains("-5"), e.getMessage());
        }
    }
}
