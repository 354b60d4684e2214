package dev.floe.runtime.bench;

/** Token ids for benchmarks and warm-ups: spread over the vocabulary, past the usual specials, different per salt. */
public final class SyntheticPrompt {
    private SyntheticPrompt() {
    }

    /** {@code length} ids in {@code [3, vocab)} (in {@code [0, vocab)} for a vocabulary of 3 or fewer). */
    public static int[] ids(int vocab, int length, int salt) {
        int base = Math.min(3, vocab - 1), span = Math.max(1, vocab - 3);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = base + (int) ((salt * 7919L + i * 104729L) % span);
        return ids;
    }
}
