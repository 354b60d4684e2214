package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching allocator: freed blocks are kept by size class and handed out again, because {@code cuMemAlloc} and
 * {@code cuMemFree} are slow and {@code cuMemFree} synchronises the device. Sizes round up to a power of two up
 * to 1 MiB and to a multiple of 2 MiB above, which bounds the waste of a class to half a block (small) or 2 MiB
 * (large). When the device is full, the cache is released and the allocation tried once more. The cache never
 * holds more than {@code cacheLimit} bytes. Not thread-safe: the backend is driven from one thread at a time.
 *
 * <p>Reuse is safe without events because every kernel and copy of a backend runs in one stream, in issue order.
 */
final class MemoryPool implements AutoCloseable {
    static final long SMALL_LIMIT = 1L << 20;
    static final long LARGE_GRANULE = 2L << 20;
    static final long MIN_BLOCK = 256;

    private final DeviceAllocator device;
    private final long cacheLimit;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private final Map<Long, Long> live = new HashMap<>();
    private long inUse;
    private long cached;
    private boolean closed;

    MemoryPool(DeviceAllocator device, long cacheLimit) {
        this.device = device;
        this.cacheLimit = cacheLimit;
    }

    /** The block size a request of {@code bytes} occupies. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        if (bytes <= SMALL_LIMIT) return Long.highestOneBit(bytes - 1) << 1;
        return Math.ceilDiv(bytes, LARGE_GRANULE) * LARGE_GRANULE;
    }

    /** A block of at least {@code bytes}; its address is aligned as the driver aligns (256 bytes or more). */
    long allocate(long bytes) {
        if (closed) throw new IllegalStateException("memory pool is closed");
        long size = sizeClass(bytes);
        ArrayDeque<Long> blocks = free.get(size);
        long address;
        if (blocks != null && !blocks.isEmpty()) {
            address = blocks.pop();
            // trim takes the largest class's deque as non-empty
            if (blocks.isEmpty()) free.remove(size);
            cached -= size;
        } else {
            address = fresh(size);
        }
        live.put(address, size);
        inUse += size;
        return address;
    }

    private long fresh(long size) {
        try {
            return device.allocate(size);
        } catch (DeviceAllocator.OutOfDeviceMemory first) {
            trim(0);
            try {
                return device.allocate(size);
            } catch (DeviceAllocator.OutOfDeviceMemory second) {
                throw new BackendException("cuMemAlloc of " + size + " bytes failed: device memory is full ("
                        + inUse + " bytes in use by this backend): " + second.getMessage(), second);
            }
        }
    }

    /**
     * Returns a block to the cache. Releasing an address this pool did not hand out is an error; after
     * {@link #close} (which freed everything) it does nothing.
     */
    void release(long address) {
        if (closed) return;
        Long size = live.remove(address);
        if (size == null) throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " is not a live block");
        inUse -= size;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
        cached += size;
        if (cached > cacheLimit) trim(cacheLimit);
    }

    /** Frees cached blocks, largest first, until at most {@code keep} bytes stay cached. */
    void trim(long keep) {
        while (cached > keep && !free.isEmpty()) {
            Map.Entry<Long, ArrayDeque<Long>> e = free.lastEntry();
            device.free(e.getValue().pop());
            cached -= e.getKey();
            if (e.getValue().isEmpty()) free.remove(e.getKey());
        }
    }

    /** The size class of a block handed out and not yet released. */
    long sizeOfLive(long address) {
        Long size = live.get(address);
        if (size == null) throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " is not a live block");
        return size;
    }

    /** Bytes of blocks handed out and not released. */
    long inUse() {
        return inUse;
    }

    /** Bytes of freed blocks kept for reuse. */
    long cached() {
        return cached;
    }

    /** Frees the cache and every block still live. */
    @Override
    public void close() {
        if (closed) return;
        trim(0);
        for (long address : live.keySet()) device.free(address);
        live.clear();
        inUse = 0;
        closed = true;
    }
}
