package dev.floe.runtime.generate;

import dev.floe.api.SamplingParams;
import dev.floe.api.TokenLogprobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Chooses the next token from logits: greedy, or temperature with min-p, top-k and top-p filtering, seeded. Penalties
 * and logit bias ({@link SamplingParams#adjustsLogits()}) change a copy of the logits first; they need the tokens
 * seen so far, so one sampler serves one sequence and remembers every token it chose.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    /** Tokens of the prompt, for the repetition penalty. */
    private final BitSet prompt = new BitSet();
    /** How many times each token was chosen, by id (grown on demand). */
    private int[] counts = new int[0];
    /** Ids chosen at least once, in first-chosen order: the penalties visit only these. */
    private final List<Integer> chosen = new ArrayList<>();

    public Sampler(SamplingParams params) {
        this(params, new int[0]);
    }

    /** A sampler whose repetition penalty also covers the tokens of {@code prompt}. */
    public Sampler(SamplingParams params, int[] prompt) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        if (params.repetitionPenalty() != 1) for (int id : prompt) this.prompt.set(id);
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

    /** Chooses the next token and remembers it for the penalties. {@code logits} is not changed. */
    public int sample(float[] logits) {
        float[] l = params.adjustsLogits() ? adjust(logits) : logits;
        int id = params.greedy() ? argmax(l) : draw(l);
        if (id >= counts.length) counts = Arrays.copyOf(counts, Math.max(id + 1, logits.length));
        if (counts[id]++ == 0) chosen.add(id);
        return id;
    }

    /**
     * The logits after the penalties and bias, in vLLM's order: the repetition penalty over prompt and output, then
     * the presence and frequency penalties over the output, then the bias.
     */
    float[] adjust(float[] logits) {
        float[] l = logits.clone();
        double rp = params.repetitionPenalty();
        if (rp != 1) {
            BitSet seen = (BitSet) prompt.clone();
            for (int id : chosen) seen.set(id);
            for (int id = seen.nextSetBit(0); id >= 0 && id < l.length; id = seen.nextSetBit(id + 1)) {
                l[id] = (float) (l[id] > 0 ? l[id] / rp : l[id] * rp);
            }
        }
        for (int id : chosen) {
            if (id < l.length) l[id] -= (float) (params.presencePenalty() + params.frequencyPenalty() * counts[id]);
        }
        for (Map.Entry<Integer, Double> e : params.logitBias().entrySet()) {
            if (e.getKey() < l.length) l[e.getKey()] += e.getValue().floatValue();
        }
        return l;
    }

    private static float orderable(float logit) {
        return Float.isNaN(logit) ? Float.NEGATIVE_INFINITY : logit;
    }

    private int draw(float[] logits) {
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        // NaN ranks with -inf, last (Float.compare would put it first), as argmax never lets it win
        Arrays.sort(order, (a, b) -> {
            int cmp = Float.compare(orderable(logits[b]), orderable(logits[a]));
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        if (!(logits[order[0]] > Float.NEGATIVE_INFINITY)) {
            throw new IllegalStateException("every logit is NaN or -inf: no token can be drawn (the forward pass diverged"
                    + " or every token is masked)");
        }
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            double z = (logits[order[i]] - max) / params.temperature();
            p[i] = Double.isNaN(z) ? 0 : Math.exp(z);
            // p[i] is the probability relative to the most likely token's (p[0] = 1): min-p cuts where it falls below
            if (params.minP() > 0 && p[i] < params.minP()) {
                keep = i;
                break;
            }
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
        int last = 0;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
            if (p[i] > 0) last = i;
        }
        // rounding left u a hair above 0: the last token with any probability, never a masked (-inf) one
        return order[last];
    }

    /**
     * The log-softmax of {@code logits} at {@code id} and the {@code top} most likely tokens (ties to the lower id),
     * as OpenAI's {@code logprobs} report them; -inf logits (masked tokens) have probability 0.
     */
    public static TokenLogprobs logprobs(float[] logits, int id, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) if (x > max) max = x;
        double sum = 0;
        for (float x : logits) if (!Float.isNaN(x)) sum += Math.exp(x - max);
        double logZ = max + Math.log(sum);
        List<TokenLogprobs.Candidate> best = new ArrayList<>(top);
        if (top > 0) {
            // a partial selection: top is at most 20, the vocabulary tens of thousands
            int[] ids = new int[Math.min(top, logits.length)];
            int size = 0;
            for (int i = 0; i < logits.length; i++) {
                if (Float.isNaN(logits[i])) continue;
                if (size < ids.length) {
                    ids[size++] = i;
                } else if (logits[i] > logits[ids[size - 1]]) {
                    ids[size - 1] = i;
                } else {
                    continue;
                }
                for (int k = size - 1; k > 0 && logits[ids[k]] > logits[ids[k - 1]]; k--) {
                    int t = ids[k];
                    ids[k] = ids[k - 1];
                    ids[k - 1] = t;
                }
            }
            for (int k = 0; k < size; k++) best.add(new TokenLogprobs.Candidate(ids[k], logits[ids[k]] - logZ));
        }
        return new TokenLogprobs(id, logits[id] - logZ, best);
    }
}
