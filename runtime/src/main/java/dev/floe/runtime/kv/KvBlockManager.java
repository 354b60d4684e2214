package dev.floe.runtime.kv;

import dev.floe.api.InvalidRequestException;

import java.util.ArrayDeque;
import java.util.BitSet;

/**
 * The pool of fixed-size KV blocks of a paged cache (vLLM's PagedAttention): blocks are handed out on demand and
 * returned when a sequence ends. Thread-safe.
 */
public final class KvBlockManager {
    private final int blocks;
    private final int blockSize;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final BitSet used;

    public KvBlockManager(int blocks, int blockSize) {
        if (blocks < 1 || blockSize < 1) throw new IllegalArgumentException("KV pool of " + blocks + " blocks of " + blockSize);
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.used = new BitSet(blocks);
        for (int b = 0; b < blocks; b++) free.add(b);
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return blocks;
    }

    public synchronized int freeBlocks() {
        return free.size();
    }

    public synchronized int usedBlocks() {
        return blocks - free.size();
    }

    /** Blocks needed to hold {@code tokens} tokens. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /** Takes one free block; throws when the pool is exhausted. */
    public synchronized int allocate() {
        Integer b = free.poll();
        if (b == null) {
            throw new InvalidRequestException("KV cache is full: all " + blocks + " blocks of " + blockSize
                    + " tokens are in use (raise the kv.blocks option)");
        }
        used.set(b);
        return b;
    }

    /** Returns blocks to the pool; freeing a block twice is an error. */
    public synchronized void free(int[] table, int count) {
        for (int i = 0; i < count; i++) {
            int b = table[i];
            if (b < 0 || b >= blocks || !used.get(b)) throw new IllegalStateException("KV block " + b + " is not in use");
            used.clear(b);
            free.add(b);
        }
    }
}
