package dev.floe.gating;

/** Steele, Lea and Flood's SplitMix64: a tiny, well-mixed 64-bit hash and generator, fixed forever (results depend on it). */
final class SplitMix64 {
    /** The golden-ratio increment. */
    static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    /** The next 64 random bits. */
    long next() {
        state += GOLDEN;
        return mix(state);
    }

    /** A uniform integer in {@code [0, bound)} (modulo bias below 2^-40 for any expert count). */
    int nextInt(int bound) {
        return (int) Long.remainderUnsigned(next(), bound);
    }

    /** The SplitMix64 finaliser (Stafford's variant 13). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
