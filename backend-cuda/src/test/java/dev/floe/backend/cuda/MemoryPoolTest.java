package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPoolTest {
    /** A device with a capacity, counting driver calls. */
    static final class FakeDevice implements DeviceAllocator {
        final long capacity;
        final Map<Long, Long> live = new HashMap<>();
        long used, next = 0x7f0000000000L, allocations, frees;

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long allocate(long bytes) {
            if (used + bytes > capacity) throw new OutOfDeviceMemory("full");
            long a = next;
            next += bytes + 4096;
            live.put(a, bytes);
            used += bytes;
            allocations++;
            return a;
        }

        @Override
        public void free(long address) {
            Long b = live.remove(address);
            if (b == null) throw new AssertionError("double free of " + address);
            used -= b;
            frees++;
        }
    }

    /** A size class emptied by reuse is no obstacle to trimming the cache (it used to throw NoSuchElementException). */
    @Test
    void trimAfterAClassWasEmptiedByReuse() {
        FakeDevice device = new FakeDevice(1L << 30);
        MemoryPool pool = new MemoryPool(device, 4 << 20);
        long big = pool.allocate(4 << 20);
        pool.release(big);
        assertEquals(big, pool.allocate(4 << 20), "reused");
        long small = pool.allocate(1 << 20);
        pool.release(small);
        pool.trim(0);
        assertEquals(0, pool.cached());
        pool.close();
        assertTrue(device.live.isEmpty());
    }

    @Test
    void sizeClasses() {
        assertEquals(256, MemoryPool.sizeClass(1));
        assertEquals(256, MemoryPool.sizeClass(256));
        assertEquals(512, MemoryPool.sizeClass(257));
        assertEquals(1 << 20, MemoryPool.sizeClass((1 << 19) + 1));
        assertEquals(1 << 20, MemoryPool.sizeClass(1 << 20));
        assertEquals(2 << 20, MemoryPool.sizeClass((1 << 20) + 1));
        assertEquals(4 << 20, MemoryPool.sizeClass((2 << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> MemoryPool.sizeClass(0));
        for (long b = 1; b < (10 << 20); b = b * 3 + 7) {
            long c = MemoryPool.sizeClass(b);
            assertTrue(c >= b && (c <= 2 * b || c - b < MemoryPool.LARGE_GRANULE), b + " -> " + c);
        }
    }

    @Test
    void reusesFreedBlocksOfTheSameClass() {
        FakeDevice dev = new FakeDevice(1L << 30);
        MemoryPool pool = new MemoryPool(dev, 1L << 30);
        long a = pool.allocate(1000);
        pool.release(a);
        assertEquals(0, pool.inUse());
        assertEquals(1024, pool.cached());
        long b = pool.allocate(900);
        assertEquals(a, b, "same size class is reused");
        assertEquals(1, dev.allocations);
        long c = pool.allocate(5000);
        assertNotEquals(a, c);
        assertEquals(1024 + 8192, pool.inUse());
    }

    @Test
    void cacheLimitFreesLargestFirst() {
        FakeDevice dev = new FakeDevice(1L << 30);
        MemoryPool pool = new MemoryPool(dev, 3 << 20);
        long big = pool.allocate(4 << 20), small = pool.allocate(1 << 20);
        pool.release(small);
        pool.release(big);
        assertTrue(pool.cached() <= 3 << 20, "cached " + pool.cached());
        assertEquals(1, dev.frees, "the 4 MiB block went back to the driver");
        assertEquals(1 << 20, pool.cached());
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetries() {
        FakeDevice dev = new FakeDevice(8 << 20);
        MemoryPool pool = new MemoryPool(dev, 1L << 30);
        long a = pool.allocate(6 << 20);
        pool.release(a);
        long b = pool.allocate(4 << 20);
        assertTrue(b != 0);
        assertEquals(0, pool.cached());
        BackendException e = assertThrows(BackendException.class, () -> pool.allocate(6 << 20));
        assertTrue(e.getMessage().contains("cuMemAlloc") && e.getMessage().contains("6291456"), e.getMessage());
    }

    @Test
    void releasingUnknownAddressIsRefusedAndCloseFreesEverything() {
        FakeDevice dev = new FakeDevice(1L << 30);
        MemoryPool pool = new MemoryPool(dev, 1L << 30);
        long a = pool.allocate(100);
        long b = pool.allocate(3 << 20);
        pool.release(b);
        assertThrows(IllegalArgumentException.class, () -> pool.release(a + 8));
        assertThrows(IllegalArgumentException.class, () -> pool.release(b));
        pool.close();
        assertEquals(0, dev.used);
        assertTrue(dev.live.isEmpty());
        pool.release(a); // after close: no-op, no double free
        assertThrows(IllegalStateException.class, () -> pool.allocate(1));
    }
}
