package dev.floe.runtime.checkpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Memory for weights copied or made in process (in-memory expert stores, synthetic benchmark models), cut from
 * slabs backed by 2 MiB transparent huge pages where the platform allows.
 *
 * <p>Decoding streams every weight once per token, so the cost of a 4 KiB page per 4 KiB of weights (a TLB miss,
 * and the hardware prefetcher stopping at each page) is paid on every token: on the development machine huge pages
 * make BF16 batch-1 decode about 9% faster (BENCHMARKS.md, "Huge pages"). With Linux's usual
 * {@code transparent_hugepage=madvise}, memory gets huge pages only when advised before it is first touched,
 * which {@link Arena#allocate} cannot do (it zeroes what it returns), so slabs are mapped here with {@code mmap}
 * and advised with {@code madvise(MADV_HUGEPAGE)}. Where that is not possible (not Linux, native access not
 * enabled for this module, transparent huge pages set to {@code never}, a refused call) slabs come from
 * {@link Arena#allocate}: the same memory, 4 KiB pages.
 */
public final class WeightArena implements AutoCloseable {
    /** Huge page size, and the alignment of every slab. */
    static final long HUGE_PAGE = 2L << 20;
    /** The largest slab; slabs start at one huge page and double, so small models take little memory. */
    private static final long MAX_SLAB = 128L << 20;
    private static final long ALIGN = 64;
    private static final Native NATIVE = Native.find();

    private final Arena arena = Arena.ofShared();
    private MemorySegment slab = MemorySegment.NULL;
    private long used;
    private long nextSlab = HUGE_PAGE;
    private long hugeBytes;

    /**
     * A zeroed, 64-byte aligned segment of {@code bytes} bytes, valid until {@link #close}. Not thread-safe: one
     * thread fills an arena.
     */
    public MemorySegment allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes: " + bytes + " is negative");
        long aligned = (bytes + ALIGN - 1) & -ALIGN;
        if (used + aligned > slab.byteSize()) {
            slab = newSlab(Math.max(nextSlab, (aligned + HUGE_PAGE - 1) & -HUGE_PAGE));
            nextSlab = Math.min(MAX_SLAB, 2 * nextSlab);
            used = 0;
        }
        MemorySegment m = slab.asSlice(used, bytes);
        used += aligned;
        return m;
    }

    /** Bytes of slabs advised to use huge pages (0 where the platform did not allow it). */
    public long hugePageBytes() {
        return hugeBytes;
    }

    /** Whether slabs can be backed by huge pages in this process. */
    public static boolean hugePagesAvailable() {
        return NATIVE != null;
    }

    private MemorySegment newSlab(long bytes) {
        if (NATIVE != null) {
            MemorySegment m = NATIVE.map(bytes, arena);
            if (m != null) {
                if (NATIVE.adviseHugePages(m)) hugeBytes += bytes;
                return m;
            }
        }
        return arena.allocate(bytes, HUGE_PAGE);
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    /** mmap, madvise and munmap from the C library, where this module may call them. */
    private record Native(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        private static final int PROT_READ_WRITE = 0x3;
        private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
        private static final int MADV_HUGEPAGE = 14;

        static Native find() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) return null;
            if (!WeightArena.class.getModule().isNativeAccessEnabled()) return null;
            if (Boolean.getBoolean("floe.weights.no-huge-pages") || transparentHugePagesOff()) return null;
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> mmap = linker.defaultLookup().find("mmap");
            Optional<MemorySegment> madvise = linker.defaultLookup().find("madvise");
            Optional<MemorySegment> munmap = linker.defaultLookup().find("munmap");
            if (mmap.isEmpty() || madvise.isEmpty() || munmap.isEmpty()) return null;
            ValueLayout.OfLong size = ValueLayout.JAVA_LONG;
            return new Native(
                    linker.downcallHandle(mmap.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            size, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, size)),
                    linker.downcallHandle(madvise.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, size, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(munmap.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, size)));
        }

        /** Whether the kernel's transparent huge pages are off ({@code [never]}), so that no advice can help. */
        private static boolean transparentHugePagesOff() {
            try {
                return java.nio.file.Files.readString(java.nio.file.Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))
                        .contains("[never]");
            } catch (java.io.IOException | RuntimeException e) {
                return false; // unknown: advising costs nothing
            }
        }

        /**
         * {@code bytes} of fresh (zeroed) anonymous memory on a huge-page boundary, unmapped when {@code arena}
         * closes; null where the kernel refuses (the caller then allocates plainly).
         */
        MemorySegment map(long bytes, Arena arena) {
            long span = bytes + HUGE_PAGE; // room to move the start to a huge-page boundary
            try {
                MemorySegment raw = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, span, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (raw.address() == -1L) return null; // MAP_FAILED
                long start = (raw.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
                return MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> unmap(raw, span));
            } catch (Throwable t) {
                return null;
            }
        }

        /** Asks for huge pages before the memory is first touched; false where refused (THP off: 4 KiB pages). */
        boolean adviseHugePages(MemorySegment m) {
            try {
                return (int) madvise.invokeExact(m, m.byteSize(), MADV_HUGEPAGE) == 0;
            } catch (Throwable t) {
                return false;
            }
        }

        private void unmap(MemorySegment raw, long span) {
            try {
                int ignored = (int) munmap.invokeExact(raw, span); // a failure leaves the mapping: nothing else to do at close
            } catch (Throwable ignored) {
                // the same
            }
        }
    }
}
