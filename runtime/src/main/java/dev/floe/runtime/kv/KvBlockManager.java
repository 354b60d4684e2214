package dev.floe.runtime.kv;

import dev.floe.api.InvalidRequestException;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The pool of fixed-size KV blocks of a paged cache (vLLM's PagedAttention): blocks are handed out on demand and
 * returned when a sequence ends. Thread-safe.
 *
 * <p>Prefix caching (vLLM's automatic prefix caching): a full block can be registered under the hash of every
 * token up to its end; a later sequence whose prompt starts with the same tokens takes the block instead of
 * computing it again. Blocks are reference-counted, so several sequences share one; a registered block whose last
 * user is gone stays cached (and counts as free) until a new allocation finds no never-used block, when the least
 * recently released cached block is evicted and reused.
 */
public final class KvBlockManager {
    private final int blocks;
    private final int blockSize;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Sequences holding each block; 0 for a free or an evictable cached block. */
    private final int[] refs;
    /** Cached blocks no sequence holds, least recently released first: free, but still findable by hash. */
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();
    private final Map<Long, Integer> byHash = new HashMap<>();
    /** Per block, the hash it is registered under and its tokens (to rule out a hash collision); null when not cached. */
    private final long[] hashes;
    private final int[][] contents;

    public KvBlockManager(int blocks, int blockSize) {
        if (blocks < 1 || blockSize < 1) throw new IllegalArgumentException("KV pool of " + blocks + " blocks of " + blockSize);
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.refs = new int[blocks];
        this.hashes = new long[blocks];
        this.contents = new int[blocks][];
        for (int b = 0; b < blocks; b++) free.add(b);
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return blocks;
    }

    /** Blocks a new allocation can take: never-used ones and cached ones no sequence holds. */
    public synchronized int freeBlocks() {
        return free.size() + evictable.size();
    }

    /** Blocks some sequence holds. */
    public synchronized int usedBlocks() {
        return blocks - free.size() - evictable.size();
    }

    /** Blocks registered for prefix caching (held or not). */
    public synchronized int cachedBlocks() {
        return byHash.size();
    }

    /** Blocks needed to hold {@code tokens} tokens. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /** Takes one free block, evicting the least recently released cached block when no other is left; throws when the pool is exhausted. */
    public synchronized int allocate() {
        Integer b = free.poll();
        if (b == null && !evictable.isEmpty()) {
            b = evictable.iterator().next();
            evictable.remove(b);
            uncache(b);
        }
        if (b == null) {
            throw new InvalidRequestException("KV cache is full: all " + blocks + " blocks of " + blockSize
                    + " tokens are in use (raise the kv.blocks option)");
        }
        refs[b] = 1;
        return b;
    }

    /** Releases one hold on each of the first {@code count} blocks; a block no sequence holds is freed (or kept cached). Releasing a free block is an error. */
    public synchronized void free(int[] table, int count) {
        for (int i = 0; i < count; i++) {
            int b = table[i];
            if (b < 0 || b >= blocks || refs[b] == 0) throw new IllegalStateException("KV block " + b + " is not in use");
            if (--refs[b] == 0) {
                if (contents[b] != null) evictable.add(b);
                else free.add(b);
            }
        }
    }

    /**
     * The hash of a full block: of its tokens and of every token before it ({@code parent}, the previous block's
     * hash, or 0 for the first block).
     */
    public static long hash(long parent, int[] tokens, int from, int count) {
        long h = parent * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        for (int i = from; i < from + count; i++) {
            h = (h ^ tokens[i]) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h ^ (h >>> 29) ^ count;
    }

    /**
     * Takes a hold on the cached block of {@code hash} whose tokens are {@code tokens[from, from + blockSize)}, or
     * returns -1 when there is none.
     */
    public synchronized int lookup(long hash, int[] tokens, int from) {
        Integer b = byHash.get(hash);
        if (b == null || !Arrays.equals(contents[b], 0, blockSize, tokens, from, from + blockSize)) return -1;
        if (refs[b]++ == 0) evictable.remove(b);
        return b;
    }

    /**
     * Registers a held, full block under {@code hash}, its content being {@code tokens[from, from + blockSize)}. A
     * hash already registered keeps its block (two sequences computed the same prefix at once; this one stays private).
     */
    public synchronized void register(int block, long hash, int[] tokens, int from) {
        if (refs[block] == 0) throw new IllegalStateException("KV block " + block + " is not in use");
        if (contents[block] != null || byHash.containsKey(hash)) return;
        byHash.put(hash, block);
        hashes[block] = hash;
        contents[block] = Arrays.copyOfRange(tokens, from, from + blockSize);
    }

    /**
     * Forgets every cached block no sequence holds (they become plain free blocks) and returns how many; blocks in
     * use stay cached. For a benchmark that compares runs on one model: without it, a later run finds the prompts of
     * an earlier one cached and computes less.
     */
    public synchronized int dropCached() {
        int dropped = evictable.size();
        for (int b : evictable) {
            uncache(b);
            free.add(b);
        }
        evictable.clear();
        return dropped;
    }

    private void uncache(int b) {
        if (contents[b] == null) return;
        byHash.remove(hashes[b]);
        contents[b] = null;
    }
}
