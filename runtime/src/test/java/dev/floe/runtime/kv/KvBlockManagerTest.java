package dev.floe.runtime.kv;

import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paged KV pool and a sequence's block table without a model: block accounting, all-or-nothing growth,
 * reference-counted sharing of cached prefix blocks and least-recently-released eviction.
 */
class KvBlockManagerTest {
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    @Test
    void poolSizeMustBePositive() {
        assertEquals("KV pool of 0 blocks of 4", assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(0, 4)).getMessage());
        assertEquals("KV pool of 2 blocks of 0", assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(2, 0)).getMessage());
        KvBlockManager one = new KvBlockManager(1, 1);
        assertEquals(1, one.totalBlocks());
        assertEquals(1, one.blockSize());
    }

    @Test
    void blocksForRoundsUp() {
        KvBlockManager pool = new KvBlockManager(4, 16);
        assertEquals(0, pool.blocksFor(0));
        assertEquals(1, pool.blocksFor(1));
        assertEquals(1, pool.blocksFor(16));
        assertEquals(2, pool.blocksFor(17));
        assertEquals(3, pool.blocksFor(48));
    }

    @Test
    void allocateHandsOutEachBlockOnceThenFails() {
        KvBlockManager pool = new KvBlockManager(3, 2);
        Set<Integer> got = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            got.add(pool.allocate());
            assertEquals(i + 1, pool.usedBlocks());
            assertEquals(2 - i, pool.freeBlocks());
        }
        assertEquals(Set.of(0, 1, 2), got);
        InvalidRequestException full = assertThrows(InvalidRequestException.class, pool::allocate);
        assertEquals("KV cache is full: all 3 blocks of 2 tokens are in use (raise the kv.blocks option)", full.getMessage());
        pool.free(new int[]{1, 0}, 1);
        assertEquals(1, pool.freeBlocks());
        assertEquals(1, pool.allocate(), "the freed block is reused");
    }

    @Test
    void freeingABlockNotInUseIsAnError() {
        KvBlockManager pool = new KvBlockManager(2, 2);
        assertEquals("KV block 0 is not in use", assertThrows(IllegalStateException.class, () -> pool.free(new int[]{0}, 1)).getMessage());
        assertThrows(IllegalStateException.class, () -> pool.free(new int[]{-1}, 1));
        assertThrows(IllegalStateException.class, () -> pool.free(new int[]{2}, 1));
        int b = pool.allocate();
        pool.free(new int[]{b}, 1);
        assertThrows(IllegalStateException.class, () -> pool.free(new int[]{b}, 1), "a double free");
        assertEquals(2, pool.freeBlocks());
        assertEquals(0, pool.usedBlocks());
    }

    @Test
    void hashDependsOnTheTokensTheirCountAndThePrefix() {
        long h = KvBlockManager.hash(0, TOKENS, 0, 4);
        assertEquals(h, KvBlockManager.hash(0, new int[]{9, 1, 2, 3, 4}, 1, 4), "only the tokens in the range count");
        assertNotEquals(h, KvBlockManager.hash(0, TOKENS, 1, 4));
        assertNotEquals(h, KvBlockManager.hash(1, TOKENS, 0, 4), "the parent block's hash counts");
        assertNotEquals(h, KvBlockManager.hash(0, TOKENS, 0, 3));
        assertNotEquals(KvBlockManager.hash(0, new int[]{0}, 0, 1), KvBlockManager.hash(0, new int[]{0, 0}, 0, 2));
        assertNotEquals(KvBlockManager.hash(0, new int[]{1, 2}, 0, 2), KvBlockManager.hash(0, new int[]{2, 1}, 0, 2), "order counts");
        assertNotEquals(KvBlockManager.hash(0, TOKENS, 0, 0), KvBlockManager.hash(5, TOKENS, 0, 0));
    }

    @Test
    void aRegisteredBlockIsSharedByLookupAndRefCounted() {
        KvBlockManager pool = new KvBlockManager(3, 4);
        long h = KvBlockManager.hash(0, TOKENS, 0, 4);
        int b = pool.allocate();
        pool.register(b, h, TOKENS, 0);
        assertEquals(1, pool.cachedBlocks());
        assertEquals(b, pool.lookup(h, new int[]{0, 1, 2, 3, 4}, 1), "the same tokens at another offset");
        assertEquals(1, pool.usedBlocks());
        pool.free(new int[]{b}, 1);
        assertEquals(1, pool.usedBlocks(), "the second holder keeps it");
        pool.free(new int[]{b}, 1);
        assertEquals(0, pool.usedBlocks());
        assertEquals(3, pool.freeBlocks(), "a cached block no one holds counts as free");
        assertEquals(1, pool.cachedBlocks(), "and stays findable");
        assertEquals(b, pool.lookup(h, TOKENS, 0));
        assertEquals(1, pool.usedBlocks(), "a lookup takes it back from the evictable ones");
        assertEquals(2, pool.freeBlocks());
    }

    @Test
    void dropCachedForgetsTheBlocksNoOneHoldsAndKeepsTheHeldOnes() {
        KvBlockManager pool = new KvBlockManager(3, 4);
        long h0 = KvBlockManager.hash(0, TOKENS, 0, 4), h1 = KvBlockManager.hash(h0, TOKENS, 4, 4);
        int released = pool.allocate(), held = pool.allocate();
        pool.register(released, h0, TOKENS, 0);
        pool.register(held, h1, TOKENS, 4);
        pool.free(new int[]{released}, 1);
        assertEquals(1, pool.dropCached());
        assertEquals(-1, pool.lookup(h0, TOKENS, 0), "a dropped block is no longer found");
        assertEquals(held, pool.lookup(h1, TOKENS, 4), "a held block stays cached");
        assertEquals(1, pool.cachedBlocks());
        assertEquals(2, pool.freeBlocks());
        assertEquals(0, pool.dropCached(), "nothing left to drop: the held block is in use");
    }

    @Test
    void lookupRejectsAHashCollisionAndUnknownHashes() {
        KvBlockManager pool = new KvBlockManager(2, 4);
        long h = KvBlockManager.hash(0, TOKENS, 0, 4);
        int b = pool.allocate();
        pool.register(b, h, TOKENS, 0);
        assertEquals(-1, pool.lookup(h, new int[]{1, 2, 3, 5}, 0), "same hash, other tokens: a collision, not a hit");
        assertEquals(-1, pool.lookup(h, TOKENS, 1));
        assertEquals(-1, pool.lookup(h + 1, TOKENS, 0));
        pool.free(new int[]{b}, 1);
        assertEquals(0, pool.usedBlocks(), "the failed lookups took no hold");
    }

    @Test
    void registerKeepsTheFirstBlockOfAHashAndNeedsAHeldBlock() {
        KvBlockManager pool = new KvBlockManager(3, 4);
        long h = KvBlockManager.hash(0, TOKENS, 0, 4);
        int first = pool.allocate();
        int second = pool.allocate();
        pool.register(first, h, TOKENS, 0);
        pool.register(second, h, TOKENS, 0);
        assertEquals(1, pool.cachedBlocks());
        assertEquals(first, pool.lookup(h, TOKENS, 0));
        pool.register(first, h + 7, TOKENS, 0);
        assertEquals(1, pool.cachedBlocks(), "a block is registered once");
        assertEquals(-1, pool.lookup(h + 7, TOKENS, 0));
        int idle = 2;
        assertEquals("KV block 2 is not in use", assertThrows(IllegalStateException.class, () -> pool.register(idle, 5, TOKENS, 0)).getMessage());
        pool.free(new int[]{second}, 1);
        assertEquals(2, pool.freeBlocks(), "the unregistered second block went back to the never-used ones");
    }

    @Test
    void evictionTakesNeverUsedBlocksFirstThenTheLeastRecentlyReleased() {
        KvBlockManager pool = new KvBlockManager(3, 1);
        int[] blocks = {pool.allocate(), pool.allocate(), pool.allocate()};
        for (int i = 0; i < 3; i++) pool.register(blocks[i], 100 + i, TOKENS, i);
        pool.free(new int[]{blocks[1]}, 1);
        pool.free(new int[]{blocks[0]}, 1);
        assertEquals(2, pool.freeBlocks());
        assertEquals(3, pool.cachedBlocks());
        assertEquals(blocks[1], pool.allocate(), "the least recently released cached block");
        assertEquals(2, pool.cachedBlocks());
        assertEquals(-1, pool.lookup(101, TOKENS, 1), "an evicted block is no longer found");
        assertEquals(blocks[0], pool.lookup(100, TOKENS, 0));
        assertThrows(InvalidRequestException.class, pool::allocate);

        KvBlockManager mixed = new KvBlockManager(2, 1);
        int cached = mixed.allocate();
        mixed.register(cached, 7, TOKENS, 0);
        mixed.free(new int[]{cached}, 1);
        int fresh = mixed.allocate();
        assertNotEquals(cached, fresh, "a never-used block goes before a cached one");
        assertEquals(cached, mixed.lookup(7, TOKENS, 0));
    }

    @Test
    void aSequenceGrowsAllOrNothing() {
        KvBlockManager pool = new KvBlockManager(5, 4);
        SequenceKv a = new SequenceKv(pool);
        a.ensureCapacity(9);
        assertEquals(3, a.blocks());
        a.ensureCapacity(12);
        assertEquals(3, a.blocks(), "12 tokens still fit in 3 blocks of 4");
        SequenceKv b = new SequenceKv(pool);
        assertThrows(InvalidRequestException.class, () -> b.ensureCapacity(13));
        assertEquals(0, b.blocks(), "a failed growth returns what it took");
        assertEquals(2, pool.freeBlocks());
        b.ensureCapacity(8);
        assertEquals(0, pool.freeBlocks());
        a.close();
        a.close();
        assertEquals(3, pool.freeBlocks(), "closing twice frees once");
        assertThrows(IllegalStateException.class, () -> a.ensureCapacity(1));
        assertThrows(IllegalStateException.class, () -> a.adopt(0));
    }

    @Test
    void aSequenceTableGrowsPastItsInitialSizeAndMapsSlots() {
        KvBlockManager pool = new KvBlockManager(12, 2);
        SequenceKv kv = new SequenceKv(pool);
        kv.ensureCapacity(20);
        assertEquals(10, kv.blocks());
        int[] table = kv.table();
        assertEquals(10, table.length);
        assertEquals(10, new HashSet<>(java.util.Arrays.stream(table).boxed().toList()).size(), "distinct blocks");
        for (int i = 0; i < 10; i++) assertEquals(table[i], kv.block(i));
        assertEquals(table[0] * 2, kv.slot(0));
        assertEquals(table[0] * 2 + 1, kv.slot(1));
        assertEquals(table[4] * 2 + 1, kv.slot(9));
        table[0] = 99;
        assertNotEquals(99, kv.table()[0], "table() is a copy");
        assertThrows(IllegalArgumentException.class, () -> kv.block(10));
        assertThrows(IllegalArgumentException.class, () -> kv.block(-1));
        assertEquals("block index 10 outside [0, 10)", assertThrows(IllegalArgumentException.class, () -> kv.evict(10)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> kv.evict(-1));
        kv.release();
        assertEquals(0, kv.blocks());
        assertEquals(12, pool.freeBlocks());
        kv.ensureCapacity(1);
        assertEquals(1, kv.blocks(), "a released sequence can grow again");
    }

    @Test
    void evictShiftsLaterBlocksDownAndAdoptAppendsASharedBlock() {
        KvBlockManager pool = new KvBlockManager(6, 1);
        SequenceKv kv = new SequenceKv(pool);
        kv.ensureCapacity(4);
        int[] before = kv.table();
        kv.evict(1);
        assertArrayEquals(new int[]{before[0], before[2], before[3]}, kv.table());
        assertEquals(3, pool.freeBlocks());
        kv.evict(2);
        assertArrayEquals(new int[]{before[0], before[2]}, kv.table());

        int shared = pool.allocate();
        pool.register(shared, 42, TOKENS, 0);
        SequenceKv other = new SequenceKv(pool);
        for (int i = 0; i < 5; i++) {
            assertEquals(shared, pool.lookup(42, TOKENS, 0));
            other.adopt(shared);
        }
        assertEquals(5, other.blocks(), "adopt grows the table past its initial size");
        other.close();
        assertEquals(3, pool.usedBlocks(), "the 5 holds of the sequence are gone, the first holder's stays");
        assertTrue(pool.cachedBlocks() == 1);
    }

    // The tests below were written for mutants that survived the runtime's mutation run (docs/testing.md).

    @Test
    void hashMatchesItsFormulaEvaluatedIndependently() {
        // the documented mixing (SplitMix-style multiply, xor-shift 31, final xor-shift 29 and the count), evaluated
        // in Python with 64-bit masks: a change to any constant, shift or operator gives other values
        long first = KvBlockManager.hash(0, TOKENS, 0, 4);
        assertEquals(-475406758956436195L, first);
        assertEquals(8050669207219657686L, KvBlockManager.hash(first, TOKENS, 4, 4));
        assertEquals(7146057677987892423L, KvBlockManager.hash(0, TOKENS, 0, 0));
    }

    @Test
    void aLongSequenceGrowsItsTableByDoublingOnlyWhenFull() {
        // 64 blocks one at a time: a table that doubled on every block would need 4 * 2^64 entries
        KvBlockManager pool = new KvBlockManager(128, 1);
        SequenceKv grown = new SequenceKv(pool);
        for (int t = 1; t <= 64; t++) grown.ensureCapacity(t);
        assertEquals(64, new HashSet<>(java.util.Arrays.stream(grown.table()).boxed().toList()).size());
        int shared = pool.allocate();
        pool.register(shared, 7, TOKENS, 0);
        SequenceKv adopting = new SequenceKv(pool);
        for (int i = 0; i < 64; i++) adopting.adopt(pool.lookup(7, TOKENS, 0));
        assertEquals(64, adopting.blocks());
        assertEquals(shared, adopting.block(63));
    }

    @Test
    void aFailedGrowthOfANonEmptySequenceReturnsOnlyWhatItTook() {
        KvBlockManager pool = new KvBlockManager(5, 1);
        SequenceKv a = new SequenceKv(pool);
        a.ensureCapacity(2);
        SequenceKv b = new SequenceKv(pool);
        b.ensureCapacity(2);
        assertThrows(InvalidRequestException.class, () -> a.ensureCapacity(5), "one block taken, the second missing");
        assertEquals(2, a.blocks());
        assertEquals(1, pool.freeBlocks(), "the one block taken went back; a's first two and b's stay held");
        assertEquals(2, b.blocks());
    }
}
