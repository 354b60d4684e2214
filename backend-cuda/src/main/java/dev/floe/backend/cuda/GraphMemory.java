package dev.floe.backend.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The device memory a captured CUDA graph points at, held until the graph is closed. The plan's operations run
 * their host side three ways against it, always asking for the same blocks in the same order (the sizes depend on
 * the plan and the graph's row count and table width, nothing else):
 *
 * <ul>
 *   <li>{@link Phase#SIZE} (once, before the capture): scratch comes from the pool and is kept; a released block is
 *       reused by a later request of the same size, as the pool would, since the graph runs its kernels in stream
 *       order. Staged arrays (the fused MoE's expert pointer tables, a router's bias) get a block of their own each
 *       and are copied in.</li>
 *   <li>{@link Phase#CAPTURE}: the same blocks, in the same order; nothing is allocated or copied.</li>
 *   <li>{@link Phase#REFRESH} (before every launch): the same blocks; a staged array whose contents changed since
 *       its last copy (an expert re-placed after an eviction) is copied again, in stream order before the launch.</li>
 * </ul>
 *
 * Kernel launches are suppressed in every phase but the capture (the backend asks {@link #launches}).
 */
final class GraphMemory implements AutoCloseable {
    enum Phase { SIZE, CAPTURE, REFRESH }

    private final MemoryPool pool;
    private final Device device;
    /** The block of each scratch request, in request order, and its size. */
    private final List<Long> takes = new ArrayList<>();
    private final List<Long> takeBytes = new ArrayList<>();
    /** The block of each staged array, in staging order, and what was last copied into it. */
    private final List<Long> stages = new ArrayList<>();
    private final List<Object> staged = new ArrayList<>();
    private final Set<Long> owned = new HashSet<>();
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private final Set<Long> stagedBlocks = new HashSet<>();
    /** Expert weights the staged tables point at, as of the last pass through the plan. */
    private final List<CudaWeight> read = new ArrayList<>();
    private Phase phase;
    private int take, stage;

    GraphMemory(MemoryPool pool, Device device) {
        this.pool = pool;
        this.device = device;
    }

    void begin(Phase p) {
        phase = p;
        take = 0;
        stage = 0;
        read.clear();
        free.clear();
    }

    /** Checks that the pass asked for every block the sizing pass did, then leaves the phase. */
    void end() {
        Phase p = phase;
        phase = null;
        if (p != Phase.SIZE && (take != takes.size() || stage != stages.size())) {
            throw new IllegalStateException("the plan asked for " + take + " scratch blocks and " + stage
                    + " staged arrays where its sizing pass took " + takes.size() + " and " + stages.size());
        }
    }

    boolean launches() {
        return phase == Phase.CAPTURE;
    }

    long take(long bytes) {
        if (take < takes.size()) {
            long sized = takeBytes.get(take);
            if (sized != bytes) {
                throw new IllegalStateException("scratch block " + take + " of the plan is " + bytes
                        + " bytes, where its sizing pass took " + sized + ": its memory depends on more than the graph's key");
            }
            return takes.get(take++);
        }
        if (phase != Phase.SIZE) {
            throw new IllegalStateException("the plan asked for scratch block " + take + " (" + bytes
                    + " bytes), which its sizing pass did not take");
        }
        ArrayDeque<Long> reusable = free.get(MemoryPool.sizeClass(bytes));
        long a = reusable != null && !reusable.isEmpty() ? reusable.pop() : allocate(bytes);
        takes.add(a);
        takeBytes.add(bytes);
        take++;
        return a;
    }

    /** A released scratch block may serve a later request of its size (sizing only; the order is then fixed). */
    void release(long address) {
        if (phase == Phase.SIZE && !stagedBlocks.contains(address)) {
            free.computeIfAbsent(pool.sizeOfLive(address), k -> new ArrayDeque<>()).push(address);
        }
    }

    /** The block of the next staged array, copied in when its contents differ from the last copy. */
    long stage(int[] ints, float[] floats) {
        Object contents = ints != null ? ints : floats;
        long a;
        if (stage < stages.size()) {
            a = stages.get(stage);
        } else {
            if (phase != Phase.SIZE) {
                throw new IllegalStateException("the plan staged array " + stage + ", which its sizing pass did not");
            }
            a = allocate(Math.max(4L, 4L * (ints != null ? ints.length : floats.length)));
            stagedBlocks.add(a);
            stages.add(a);
            staged.add(null);
        }
        Object last = staged.get(stage);
        boolean same = last instanceof int[] li && ints != null ? Arrays.equals(li, ints)
                : last instanceof float[] lf && floats != null && Arrays.equals(lf, floats);
        if (!same) {
            // throws CaptureGuard.NotCapturable during a capture: the sizing pass just copied the same contents
            device.stage(ints, floats, a);
            staged.set(stage, ints != null ? ints.clone() : floats.clone());
        }
        stage++;
        return a;
    }

    /** Notes an expert weight a staged table points at. */
    void reads(CudaWeight w) {
        read.add(w);
    }

    /** The first weight the last pass's tables point at that has been freed since (evicted), or null. */
    CudaWeight freedSince() {
        for (CudaWeight w : read) if (w.isClosed()) return w;
        return null;
    }

    private long allocate(long bytes) {
        long a = pool.allocate(bytes);
        owned.add(a);
        return a;
    }

    @Override
    public void close() {
        for (long a : owned) pool.release(a);
        owned.clear();
    }
}
