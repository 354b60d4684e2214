package dev.floe.tck.kernel;

import java.util.SplittableRandom;

/** Seeded permutations, so that block tables and row orders are not the identity. */
final class ForwardOrder {
    private ForwardOrder() {
    }

    /** A random permutation of {@code [0, n)} (Fisher-Yates). */
    static int[] shuffled(SplittableRandom random, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
