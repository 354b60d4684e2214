package dev.floe.runtime.model;

import dev.floe.api.ModelConfig;
import dev.floe.runtime.checkpoint.RequiredTensor;
import dev.floe.runtime.checkpoint.TensorSlices;
import dev.floe.runtime.parallel.Shard;
import dev.floe.spi.Backend;
import dev.floe.spi.TensorSource;
import dev.floe.spi.Weight;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Every non-expert weight of a model placed on a backend, resolved by the names of spec section 6 and checked
 * against the config's shapes. A tensor-parallel rank places only its {@link Shard}: rows of the column-parallel
 * weights, columns of the row-parallel ones; norms, the router gate and the embedding are replicated, and the head is
 * placed on rank 0 only (the only rank that computes logits; null elsewhere unless tied to the embedding).
 */
final class ModelWeights implements AutoCloseable {
    final Weight embed;
    final Weight norm;
    final Weight head;
    final List<LayerWeights> layers;
    final WeightPlacer placer;

    private ModelWeights(Weight embed, Weight norm, Weight head, List<LayerWeights> layers, WeightPlacer placer) {
        this.embed = embed;
        this.norm = norm;
        this.head = head;
        this.layers = layers;
        this.placer = placer;
    }

    static ModelWeights load(ModelConfig c, TensorSource src, Backend backend, String source, IntConsumer progress) {
        return load(c, src, backend, source, progress, Shard.SINGLE);
    }

    static ModelWeights load(ModelConfig c, TensorSource src, Backend backend, String source, IntConsumer progress, Shard shard) {
        WeightPlacer placer = new WeightPlacer(backend, WeightPlacer.blockOf(c.quantization()));
        try {
            Loader l = new Loader(c, src, placer, source, shard);
            long h = c.hiddenSize(), v = c.vocabSize();
            Weight embed = l.get("model.embed_tokens.weight", v, h);
            Weight norm = l.get("model.norm.weight", h);
            boolean tied = c.tieWordEmbeddings() && !src.contains("lm_head.weight");
            Weight head = tied ? embed : shard.rank() == 0 ? l.get("lm_head.weight", v, h) : null;
            List<LayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(l.layer(i));
                progress.accept(i + 1);
            }
            return new ModelWeights(embed, norm, head, List.copyOf(layers), placer);
        } catch (RuntimeException e) {
            placer.close();
            throw e;
        }
    }

    /** Resolves and checks tensors, then places them. */
    private record Loader(ModelConfig c, TensorSource src, WeightPlacer placer, String source, Shard shard) {
        Weight get(String name, long... shape) {
            return placer.place(RequiredTensor.of(src, source, name, shape));
        }

        /** Rows {@code [start, start + count)} of a column-parallel weight {@code [rows, cols]}. */
        Weight rows(String name, long rows, long cols, long start, long count) {
            if (shard.tp() == 1) return get(name, rows, cols);
            return placer.place(TensorSlices.rows(RequiredTensor.of(src, source, name, rows, cols), start, count, placer.block()));
        }

        /** Columns {@code [start, start + count)} of a row-parallel weight {@code [rows, cols]}. */
        Weight columns(String name, long rows, long cols, long start, long count) {
            if (shard.tp() == 1) return get(name, rows, cols);
            return placer.place(TensorSlices.columns(RequiredTensor.of(src, source, name, rows, cols), start, count, placer.arena(),
                    placer.block()));
        }

        /** A SwiGLU MLP of {@code width}, split column- then row-wise. */
        LayerWeights.Mlp mlp(String prefix, long width) {
            long h = c.hiddenSize(), start = shard.shareStart((int) width), n = shard.share((int) width);
            return new LayerWeights.Mlp(rows(prefix + "w1.weight", width, h, start, n),
                    columns(prefix + "w2.weight", h, width, start, n), rows(prefix + "w3.weight", width, h, start, n));
        }

        LayerWeights layer(int i) {
            String p = "model.layers." + i + ".";
            long h = c.hiddenSize(), d = c.headDim(), inter = c.intermediateSize();
            long qStart = shard.firstHead(c) * d, qRows = shard.heads(c) * d;
            long kvStart = shard.firstKvHead(c) * d, kvRows = shard.kvHeads(c) * d;
            Weight q = rows(p + "self_attn.q_proj.weight", c.numHeads() * d, h, qStart, qRows);
            Weight k = rows(p + "self_attn.k_proj.weight", c.numKvHeads() * d, h, kvStart, kvRows);
            Weight v = rows(p + "self_attn.v_proj.weight", c.numKvHeads() * d, h, kvStart, kvRows);
            Weight o = columns(p + "self_attn.o_proj.weight", h, c.numHeads() * d, qStart, qRows);
            Weight in = get(p + "input_layernorm.weight", h);
            Weight post = get(p + "post_attention_layernorm.weight", h);
            if (!c.isMoeLayer(i)) {
                var dense = mlp(p + "block_sparse_moe.mlp.", inter);
                return new LayerWeights(in, post, q, k, v, o, null, dense, null, null);
            }
            Weight gate = get(p + "block_sparse_moe.gate.weight", c.numExperts(), h);
            if (!c.hasResidualMlp(i)) return new LayerWeights(in, post, q, k, v, o, gate, null, null, null);
            var residual = mlp(p + "residual_mlp.", h);
            return new LayerWeights(in, post, q, k, v, o, gate, null, get(p + "residual_layernorm.weight", h), residual);
        }
    }

    @Override
    public void close() {
        placer.close();
    }
}
