package dev.floe.tck.kernel;

import java.util.List;
import java.util.Locale;

/** Error metrics against the float64 oracle. */
public final class Compare {
    private Compare() {
    }

    /** The largest error and where it is. */
    public record Error(double value, int index, double ours, double expected) {
        public String where() {
            return index < 0 ? "" : String.format(Locale.ROOT, "worst at [%d]: %s vs oracle %s", index, ours, expected);
        }

        /**
         * Where the worst error is, by the tensor's axes rather than a flat index: {@code layout("row", rows, "head",
         * heads, "dim", headDim)} gives {@code worst at (row 3, head 1, dim 17): ...}.
         */
        public String where(Layout layout) {
            return index < 0 ? "" : String.format(Locale.ROOT, "worst at (%s): %s vs oracle %s", layout.locate(index), ours, expected);
        }
    }

    /** Names and sizes of a row-major tensor's axes, outermost first. */
    public record Layout(List<String> names, int[] sizes) {
        public static Layout of(Object... namesAndSizes) {
            List<String> names = new java.util.ArrayList<>();
            int[] sizes = new int[namesAndSizes.length / 2];
            for (int i = 0; i < sizes.length; i++) {
                names.add((String) namesAndSizes[2 * i]);
                sizes[i] = (Integer) namesAndSizes[2 * i + 1];
            }
            return new Layout(names, sizes);
        }

        /** {@code row 3, head 1, dim 17} for a flat index. */
        public String locate(int flat) {
            int[] at = new int[sizes.length];
            for (int a = sizes.length - 1; a >= 0; a--) {
                at[a] = a == 0 ? flat : flat % sizes[a];
                flat = a == 0 ? flat : flat / sizes[a];
            }
            StringBuilder b = new StringBuilder();
            for (int a = 0; a < at.length; a++) b.append(a == 0 ? "" : ", ").append(names.get(a)).append(' ').append(at[a]);
            return b.toString();
        }
    }

    /**
     * {@code max_i |ours_i - ref_i| / magnitude_i}. A NaN in the oracle must be a NaN in ours and an infinity the same
     * infinity; anything else non-finite is an infinite error. A zero magnitude demands an exact result.
     */
    public static Error conditioned(float[] ours, double[] ref, double[] magnitude) {
        dev.floe.tck.Dump.expected(ref);
        if (ours.length < ref.length) return new Error(Double.POSITIVE_INFINITY, -1, Double.NaN, Double.NaN);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < ref.length; i++) {
            double e;
            if (Double.isNaN(ref[i])) e = Float.isNaN(ours[i]) ? 0 : Double.POSITIVE_INFINITY;
            else if (Double.isInfinite(ref[i])) e = ours[i] == ref[i] ? 0 : Double.POSITIVE_INFINITY;
            else if (!Float.isFinite(ours[i])) e = Double.POSITIVE_INFINITY;
            else {
                double diff = Math.abs(ours[i] - ref[i]);
                e = diff == 0 ? 0 : diff / Math.max(magnitude[i], Double.MIN_NORMAL);
            }
            if (e > worst) {
                worst = e;
                at = i;
            }
        }
        return at < 0 ? new Error(worst, -1, 0, 0) : new Error(worst, at, ours[at], ref[at]);
    }

    /** Where a copied value is a zero of the wrong sign (a decoder that loses the sign of -0), or null. */
    public static String zeroSignMismatch(float[] ours, double[] ref) {
        for (int i = 0; i < ref.length; i++) {
            if (ref[i] == 0 && ours[i] == 0 && (1 / ref[i] < 0) != (1 / ours[i] < 0)) {
                return "[" + i + "]: " + ours[i] + " but the oracle decodes " + ref[i];
            }
        }
        return null;
    }

    /** Relative to each element's own magnitude (plus {@code floor}, for values near zero). */
    public static Error relative(float[] ours, double[] ref, double floor) {
        double[] mag = new double[ref.length];
        for (int i = 0; i < mag.length; i++) mag[i] = Math.abs(ref[i]) + floor;
        return conditioned(ours, ref, mag);
    }

    /** Relative to the largest magnitude of the whole tensor (GoldenChecks' metric). */
    public static Error relativeToMax(float[] ours, double[] ref) {
        double max = 0;
        for (double r : ref) if (Double.isFinite(r)) max = Math.max(max, Math.abs(r));
        double[] mag = new double[ref.length];
        java.util.Arrays.fill(mag, max);
        return conditioned(ours, ref, mag);
    }
}
