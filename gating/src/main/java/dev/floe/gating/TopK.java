package dev.floe.gating;

/** Selection of the k largest scores; ties go to the lower index, NaN ranks below every number. */
public final class TopK {
    private TopK() {
    }

    /** Indices of the {@code k} largest values, best first. */
    public static int[] indices(float[] scores, int k) {
        double[] d = new double[scores.length];
        for (int i = 0; i < d.length; i++) d[i] = scores[i];
        return indices(d, k);
    }

    /** Indices of the {@code k} largest values, best first. */
    public static int[] indices(double[] scores, int k) {
        if (k < 0 || k > scores.length) {
            throw new IllegalArgumentException("k = " + k + " for " + scores.length + " scores");
        }
        int[] top = new int[k];
        int filled = 0;
        for (int i = 0; i < scores.length; i++) {
            // insertion into the sorted prefix; strict comparison keeps the lower index first on ties
            int pos = filled;
            while (pos > 0 && better(scores[i], scores[top[pos - 1]])) pos--;
            if (pos < k) {
                int moved = Math.min(filled, k - 1) - pos;
                System.arraycopy(top, pos, top, pos + 1, moved);
                top[pos] = i;
                filled = Math.min(filled + 1, k);
            }
        }
        return top;
    }

    /** Orders scores best first: larger first, NaN last, equal scores as equal. */
    static int compareDescending(float a, float b) {
        return better(a, b) ? -1 : better(b, a) ? 1 : 0;
    }

    /** Whether {@code a} ranks strictly above {@code b}. */
    static boolean better(double a, double b) {
        if (Double.isNaN(a)) return false;
        return Double.isNaN(b) || a > b;
    }
}
