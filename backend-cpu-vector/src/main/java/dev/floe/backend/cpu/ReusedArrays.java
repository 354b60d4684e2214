package dev.floe.backend.cpu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Float arrays lent out for one operation and taken back at its end, kept from call to call (per thread, in size
 * classes of powers of two) so that an operation's working arrays are not allocated, and zeroed, anew on every pass:
 * a 256-token prompt's MoE block needs some 20 MB of them per layer. An array lent out holds whatever it held before:
 * its borrower writes every element it reads.
 */
final class ReusedArrays {
    @SuppressWarnings("unchecked")
    private final ArrayDeque<float[]>[] free = new ArrayDeque[32];
    private final List<float[]> lent = new ArrayList<>();

    /** An array of at least {@code n} floats, lent until {@link #takeBackAll}. */
    float[] take(int n) {
        int c = sizeClass(n);
        ArrayDeque<float[]> q = free[c];
        float[] a = q == null || q.isEmpty() ? new float[1 << c] : q.pop();
        lent.add(a);
        return a;
    }

    /** Takes back every array lent out. */
    void takeBackAll() {
        for (float[] a : lent) {
            int c = sizeClass(a.length);
            if (free[c] == null) free[c] = new ArrayDeque<>();
            free[c].push(a);
        }
        lent.clear();
    }

    private static int sizeClass(int n) {
        if (n > 1 << 30) throw new IllegalArgumentException("n: " + n + " floats exceed the largest array this lends");
        return 32 - Integer.numberOfLeadingZeros(Math.max(1, n) - 1);
    }
}
