package dev.floe.runtime.generate;

import dev.floe.api.SamplingParams;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses the next token from logits: greedy, or temperature with top-k and top-p filtering, seeded. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** The index of the largest logit; ties go to the lower index, NaN never wins. */
    public static int argmax(float[] logits) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > bestValue || (best < 0 && !Float.isNaN(logits[i]))) {
                best = i;
                bestValue = logits[i];
            }
        }
        if (best < 0) throw new IllegalStateException("every logit is NaN: the forward pass diverged");
        return best;
    }

    public int sample(float[] logits) {
        if (params.greedy()) return argmax(logits);
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int cmp = Float.compare(logits[b], logits[a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            double z = (logits[order[i]] - max) / params.temperature();
            p[i] = Double.isNaN(z) ? 0 : Math.exp(z);
            sum += p[i];
        }
        if (params.topP() < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += p[i] / sum;
                if (cumulative >= params.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) sum += p[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }
}
