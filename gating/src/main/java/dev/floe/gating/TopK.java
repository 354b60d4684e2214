package dev.floe.gating;

/** Selection of the k largest scores; ties go to the lower index, NaN ranks below every number. */
public final class TopK {
    private TopK() {
    }

    /** Indices of the {@code k} largest values, best first. */
    public static int[] indices(float[] scores, int k) {
        if (k < 0 || k > scores.length) {
            throw new IllegalArgumentException("k = " + k + " for " + scores.length + " scores");
        }
        int[] top = new int[k];
        for (int j = 0; j < k; j++) top[j] = -1;
        for (int i = 0; i < scores.length; i++) {
            // insertion into the sorted prefix; strict comparison keeps the lower index first on ties
            int pos = k;
            while (pos > 0 && (top[pos - 1] < 0 || better(scores[i], scores[top[pos - 1]]))) pos--;
            if (pos < k) {
                System.arraycopy(top, pos, top, pos + 1, k - pos - 1);
                top[pos] = i;
            }
        }
        return top;
    }

    private static boolean better(float a, float b) {
        if (Float.isNaN(a)) return false;
        return Float.isNaN(b) || a > b;
    }
}
