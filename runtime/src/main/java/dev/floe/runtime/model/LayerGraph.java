package dev.floe.runtime.model;

import dev.floe.api.FloeException;
import dev.floe.api.ForwardObserver;
import dev.floe.api.ModelConfig;
import dev.floe.api.Router;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Arctic/Mixtral decoder (spec section 3), written once against the backend SPI. Data stays on the backend
 * between kernels; only router logits (for the host-side {@link Router}) and the requested logits come back.
 * One pass at a time: callers serialise on the graph.
 */
final class LayerGraph implements AutoCloseable {
    /** Most rows per pass; longer prompts are fed in chunks of this size. */
    static final int MAX_ROWS = 256;

    private final ModelConfig c;
    private final Backend backend;
    private final ModelWeights weights;
    private final ExpertCache experts;
    private final Router router;
    private final KvCache cache;
    private final int blockSize;
    private final float eps;
    private final float theta;
    private Scratch scratch;

    LayerGraph(ModelConfig c, Backend backend, ModelWeights weights, ExpertCache experts, Router router, KvCache cache) {
        this.c = c;
        this.backend = backend;
        this.weights = weights;
        this.experts = experts;
        this.router = router;
        this.cache = cache;
        this.blockSize = cache.layout().blockSize();
        this.eps = (float) c.rmsNormEps();
        this.theta = (float) c.ropeTheta();
    }

    /** Runs one pass and returns the logits of {@code batch.logitRows()}, {@code [rows][vocab]}. */
    synchronized float[][] forward(ForwardBatch batch, ForwardObserver observer) {
        int t = batch.rows();
        if (t > MAX_ROWS) throw new IllegalArgumentException("a pass carries at most " + MAX_ROWS + " rows, got " + t);
        Scratch s = scratch(t);
        int hidden = c.hiddenSize();
        int[] slots = new int[t];
        for (int r = 0; r < t; r++) {
            int[] table = batch.blockTables()[batch.sequence()[r]];
            int p = batch.positions()[r];
            slots[r] = table[p / blockSize] * blockSize + p % blockSize;
        }
        if (batch.keysBeforeRope() && !backend.capabilities().contains(dev.floe.spi.Capability.ATTENTION_SINKS)) {
            throw new dev.floe.api.InvalidRequestException("backend " + backend.name() + " lacks the "
                    + dev.floe.spi.Capability.ATTENTION_SINKS.id() + " capability that attention.sink/attention.window need"
                    + " (cpu-vector has it)");
        }
        AttentionBatch attention = new AttentionBatch(c.numHeads(), batch.positions(), batch.sequence(), batch.blockTables(),
                batch.keysBeforeRope() ? theta : 0f);
        backend.embed(weights.embed, batch.tokens(), s.x);
        for (int l = 0; l < c.numLayers(); l++) {
            layer(l, weights.layers.get(l), batch, t, slots, attention, s, observer);
            if (observer != null && observer.wantsLayerOutputs()) {
                float[] out = new float[t * hidden];
                backend.download(s.x, 0, out, 0, out.length);
                observer.onLayerOutput(l, out, t);
            }
        }
        return logits(batch.logitRows(), t, s);
    }

    private void layer(int l, LayerWeights w, ForwardBatch batch, int t, int[] slots, AttentionBatch attention,
                       Scratch s, ForwardObserver observer) {
        int hidden = c.hiddenSize(), d = c.headDim();
        long n = (long) t * hidden;
        // attention: h = x + o_proj(Attention(N_in(x)))
        backend.rmsNorm(s.x, w.inputNorm(), eps, t, hidden, s.xn);
        backend.matmul(s.xn, t, w.q(), s.q);
        backend.matmul(s.xn, t, w.k(), s.k);
        backend.matmul(s.xn, t, w.v(), s.v);
        backend.rope(s.q, t, c.numHeads(), d, batch.positions(), theta);
        // attention-sink windows cache keys before RoPE; the attention kernel rotates them by their cache index
        if (!batch.keysBeforeRope()) backend.rope(s.k, t, c.numKvHeads(), d, batch.positions(), theta);
        backend.storeKv(cache, l, s.k, s.v, t, slots);
        backend.attention(s.q, cache, l, attention, s.att);
        backend.matmul(s.att, t, w.o(), s.h);
        backend.add(s.x, s.h, n, s.h);

        if (!c.isMoeLayer(l)) {
            // out = h + DenseMLP(N_post(h))
            backend.rmsNorm(s.h, w.postNorm(), eps, t, hidden, s.xn);
            mlp(w.dense(), s.xn, t, s.mlpOut, s);
            backend.add(s.h, s.mlpOut, n, s.x);
        } else if (c.hasResidualMlp(l)) {
            // arctic parallel wiring: out = (h + ResidualMLP(N_res(h))) + MoE(N_post(x)), x the PRE-attention input
            backend.rmsNorm(s.x, w.postNorm(), eps, t, hidden, s.xn);
            backend.rmsNorm(s.h, w.residualNorm(), eps, t, hidden, s.rn);
            mlp(w.residual(), s.rn, t, s.mlpOut, s);
            backend.add(s.h, s.mlpOut, n, s.x);
            moe(l, w, batch, t, s.xn, s.x, s, observer);
        } else {
            // out = h + MoE(N_post(h))
            backend.rmsNorm(s.h, w.postNorm(), eps, t, hidden, s.xn);
            s.swapResidual();
            moe(l, w, batch, t, s.xn, s.x, s, observer);
        }
    }

    /** {@code out = w2(silu(w1 in) * (w3 in))}. */
    private void mlp(LayerWeights.Mlp m, Buffer in, int rows, Buffer out, Scratch s) {
        backend.matmul(in, rows, m.w1(), s.mlpA);
        backend.matmul(in, rows, m.w3(), s.mlpB);
        backend.swiglu(s.mlpA, s.mlpB, (long) rows * m.width(), s.mlpA);
        backend.matmul(s.mlpA, rows, m.w2(), out);
    }

    /** Routes the rows of {@code in} and adds each chosen expert's output, times its weight, into {@code dst}. */
    private void moe(int l, LayerWeights w, ForwardBatch batch, int t, Buffer in, Buffer dst, Scratch s,
                     ForwardObserver observer) {
        int e = c.numExperts(), hidden = c.hiddenSize(), inter = c.intermediateSize();
        backend.matmul(in, t, w.gate(), s.router);
        float[] flat = new float[t * e];
        backend.download(s.router, 0, flat, 0, flat.length);
        float[][] logits = new float[t][];
        for (int r = 0; r < t; r++) logits[r] = Arrays.copyOfRange(flat, r * e, (r + 1) * e);
        RoutingInput input = new RoutingInput(l, logits, batch.tokens(), batch.positions(), c.topK(), c.renormalizeTopK());
        RoutingDecision decision = router.route(input);
        check(decision, t, l);
        if (observer != null) observer.onRouting(l, input, decision);

        List<List<int[]>> byExpert = new ArrayList<>(e);
        for (int x = 0; x < e; x++) byExpert.add(new ArrayList<>());
        for (int r = 0; r < t; r++) {
            int[] ex = decision.experts()[r];
            for (int j = 0; j < ex.length; j++) byExpert.get(ex[j]).add(new int[]{r, j});
        }
        for (int x = 0; x < e; x++) {
            List<int[]> picks = byExpert.get(x);
            if (picks.isEmpty()) continue;
            int n = picks.size();
            int[] rows = new int[n];
            float[] scales = new float[n];
            for (int i = 0; i < n; i++) {
                int[] p = picks.get(i);
                rows[i] = p[0];
                scales[i] = decision.weights()[p[0]][p[1]];
            }
            LayerWeights.Mlp m = experts.get(l, x);
            backend.gatherRows(in, hidden, rows, s.expertIn);
            backend.matmul(s.expertIn, n, m.w1(), s.expertA);
            backend.matmul(s.expertIn, n, m.w3(), s.expertB);
            backend.swiglu(s.expertA, s.expertB, (long) n * inter, s.expertA);
            backend.matmul(s.expertA, n, m.w2(), s.expertOut);
            backend.scatterAddRows(s.expertOut, hidden, rows, scales, dst);
        }
    }

    private void check(RoutingDecision d, int t, int layer) {
        if (d.tokens() != t) {
            throw new FloeException("router " + router.name() + " returned " + d.tokens() + " rows for " + t + " tokens at layer " + layer);
        }
        for (int r = 0; r < t; r++) {
            for (int j = 0; j < d.experts()[r].length; j++) {
                int x = d.experts()[r][j];
                float wgt = d.weights()[r][j];
                if (x < 0 || x >= c.numExperts()) {
                    throw new FloeException("router " + router.name() + " sent token " + r + " of layer " + layer
                            + " to expert " + x + ", outside [0, " + c.numExperts() + ")");
                }
                if (!Float.isFinite(wgt)) {
                    throw new FloeException("router " + router.name() + " gave token " + r + " of layer " + layer
                            + " a weight of " + wgt + " for expert " + x);
                }
            }
        }
    }

    private float[][] logits(int[] rows, int t, Scratch s) {
        int hidden = c.hiddenSize(), vocab = c.vocabSize();
        int n = rows.length;
        if (n == 0) return new float[0][];
        Buffer src = s.x;
        if (!isIdentity(rows, t)) {
            backend.gatherRows(s.x, hidden, rows, s.selected);
            src = s.selected;
        }
        backend.rmsNorm(src, weights.norm, eps, n, hidden, s.xn);
        backend.matmul(s.xn, n, weights.head, s.logits);
        float[] flat = new float[n * vocab];
        backend.download(s.logits, 0, flat, 0, flat.length);
        float[][] out = new float[n][];
        for (int r = 0; r < n; r++) out[r] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
        return out;
    }

    private static boolean isIdentity(int[] rows, int t) {
        if (rows.length != t) return false;
        for (int i = 0; i < t; i++) if (rows[i] != i) return false;
        return true;
    }

    private Scratch scratch(int rows) {
        if (scratch == null || scratch.rows < rows) {
            if (scratch != null) scratch.close();
            int size = scratch == null ? Math.max(rows, 1) : Math.min(MAX_ROWS, Math.max(rows, scratch.rows * 2));
            scratch = new Scratch(backend, c, size);
        }
        return scratch;
    }

    @Override
    public synchronized void close() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
    }
}
