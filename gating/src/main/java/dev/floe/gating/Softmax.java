package dev.floe.gating;

/**
 * Router probabilities in float32 (spec section 4), total over every input: NaN logits count as minus infinity (so a
 * broken expert is chosen last, never poisons the others); if some logits are +infinity they share all the mass; if
 * every logit is minus infinity or NaN the distribution is uniform.
 */
final class Softmax {
    private Softmax() {
    }

    static float[] of(float[] logits) {
        int n = logits.length;
        float[] p = new float[n];
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) if (v > max) max = v; // NaN never compares greater
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(p, 1f / n);
            return p;
        }
        if (max == Float.POSITIVE_INFINITY) {
            int count = 0;
            for (float v : logits) if (v == max) count++;
            for (int i = 0; i < n; i++) p[i] = logits[i] == max ? 1f / count : 0f;
            return p;
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Float.isNaN(logits[i]) ? 0f : (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }
}
