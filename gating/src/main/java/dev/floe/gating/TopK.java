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

    /** Indices of the {@code k} largest values, best first (the rule lives in {@link dev.floe.api.RoutingSpec#topK}). */
    public static int[] indices(double[] scores, int k) {
        return dev.floe.api.RoutingSpec.topK(scores, k);
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
