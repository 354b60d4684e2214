package dev.floe.gating;

import dev.floe.api.RoutingInput;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SplitMix64 and the hash router against values computed outside Java: a mutated multiplier, shift or increment is a
 * different (still deterministic, still balanced) hash, which only fixed outputs can tell apart. The hash is part of
 * the routing contract ("fixed forever"), so a change must fail here.
 */
class HashReferenceTest {
    /**
     * The first outputs of Vigna's reference {@code splitmix64.c}: seed 0 (the well-known {@code 0xe220a8397b1dcdaf})
     * and seed 1234567 (the sequence other SplitMix64 ports, e.g. Rust's rand_xoshiro, test against).
     */
    @Test
    void generatorMatchesTheReferenceSequences() {
        SplitMix64 zero = new SplitMix64(0);
        assertEquals(0xe220a8397b1dcdafL, zero.next());
        assertEquals(0x6e789e6aa1b965f4L, zero.next());
        assertEquals(0x06c45d188009454fL, zero.next());
        SplitMix64 r = new SplitMix64(1234567);
        long[] expected = {6457827717110365317L, 3203168211198807973L, Long.parseUnsignedLong("9817491932198370423"),
                4593380528125082431L, Long.parseUnsignedLong("16408922859458223821")};
        for (long e : expected) assertEquals(e, r.next());
    }

    @Test
    void nextIntIsTheUnsignedRemainder() {
        // the first output 0xe220a8397b1dcdaf is 16294208416658607535 unsigned (negative as a signed long)
        assertEquals(5, new SplitMix64(0).nextInt(10));
        assertEquals(2, new SplitMix64(0).nextInt(7));
    }

    /**
     * Experts chosen for 8 experts, k = 2, by the formula in {@link HashRouter}'s documentation evaluated in Python
     * with arbitrary-precision integers masked to 64 bits (the smallest two unsigned keys, smallest first).
     */
    @Test
    void routerMatchesItsDocumentedFormula() {
        int[] ids = {0, 1, 7, 31999};
        assertRoutes(0, 0, ids, new int[][]{{0, 3}, {6, 0}, {6, 1}, {5, 6}});
        assertRoutes(0, 3, ids, new int[][]{{0, 7}, {6, 7}, {6, 0}, {3, 4}});
        assertRoutes(42, 0, ids, new int[][]{{3, 7}, {6, 1}, {2, 4}, {0, 2}});
        assertRoutes(42, 3, ids, new int[][]{{5, 4}, {5, 0}, {6, 4}, {2, 0}});
    }

    private static void assertRoutes(long seed, int layer, int[] ids, int[][] expected) {
        int[] positions = new int[ids.length];
        RoutingInput input = new RoutingInput(layer, new float[ids.length][8], ids, positions, 2, true);
        int[][] got = new HashRouter(2, seed).route(input).experts();
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(expected[t], got[t], "seed " + seed + ", layer " + layer + ", token " + ids[t]);
        }
    }
}
