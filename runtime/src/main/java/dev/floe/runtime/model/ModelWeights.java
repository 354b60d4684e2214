package dev.floe.runtime.model;

import dev.floe.api.ModelConfig;
import dev.floe.runtime.checkpoint.RequiredTensor;
import dev.floe.spi.Backend;
import dev.floe.spi.TensorSource;
import dev.floe.spi.Weight;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Every non-expert weight of a model placed on a backend, resolved by the names of spec section 6 and checked
 * against the config's shapes.
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
        WeightPlacer placer = new WeightPlacer(backend, WeightPlacer.blockOf(c.quantization()));
        try {
            Loader l = new Loader(c, src, placer, source);
            long h = c.hiddenSize(), v = c.vocabSize();
            Weight embed = l.get("model.embed_tokens.weight", v, h);
            Weight norm = l.get("model.norm.weight", h);
            Weight head = c.tieWordEmbeddings() && !src.contains("lm_head.weight") ? embed : l.get("lm_head.weight", v, h);
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
    private record Loader(ModelConfig c, TensorSource src, WeightPlacer placer, String source) {
        Weight get(String name, long... shape) {
            return placer.place(RequiredTensor.of(src, source, name, shape));
        }

        LayerWeights layer(int i) {
            String p = "model.layers." + i + ".";
            long h = c.hiddenSize(), d = c.headDim(), inter = c.intermediateSize();
            Weight q = get(p + "self_attn.q_proj.weight", c.numHeads() * d, h);
            Weight k = get(p + "self_attn.k_proj.weight", c.numKvHeads() * d, h);
            Weight v = get(p + "self_attn.v_proj.weight", c.numKvHeads() * d, h);
            Weight o = get(p + "self_attn.o_proj.weight", h, c.numHeads() * d);
            Weight in = get(p + "input_layernorm.weight", h);
            Weight post = get(p + "post_attention_layernorm.weight", h);
            if (!c.isMoeLayer(i)) {
                String m = p + "block_sparse_moe.mlp.";
                var dense = new LayerWeights.Mlp(get(m + "w1.weight", inter, h), get(m + "w2.weight", h, inter), get(m + "w3.weight", inter, h));
                return new LayerWeights(in, post, q, k, v, o, null, dense, null, null);
            }
            Weight gate = get(p + "block_sparse_moe.gate.weight", c.numExperts(), h);
            if (!c.hasResidualMlp(i)) return new LayerWeights(in, post, q, k, v, o, gate, null, null, null);
            String r = p + "residual_mlp.";
            var residual = new LayerWeights.Mlp(get(r + "w1.weight", h, h), get(r + "w2.weight", h, h), get(r + "w3.weight", h, h));
            return new LayerWeights(in, post, q, k, v, o, gate, null, get(p + "residual_layernorm.weight", h), residual);
        }
    }

    @Override
    public void close() {
        placer.close();
    }
}
