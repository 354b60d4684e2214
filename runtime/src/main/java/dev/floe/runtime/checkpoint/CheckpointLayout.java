package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.DType;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.experts.ExpertNames;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tensors a Hugging Face checkpoint of a config holds, in the Arctic/Mixtral naming (spec section 3): names,
 * dtypes and shapes, one list per shard (the embedding, final norm and head first, then one shard per layer). With
 * {@link #writeSparse} it makes a checkpoint folder of any size whose data is left as holes, so the header-only tools
 * ({@code floe inspect}, {@code floe plan}) can be tested on the real 480B Arctic layout without 957 GB of disk.
 */
public final class CheckpointLayout {
    private CheckpointLayout() {
    }

    /**
     * The tensors of {@code c}, by shard; linear weights are {@code linear} (BF16, or F8_E4M3 with an F32 scale per
     * output row as {@code floe quantize --fp8} writes), embeddings, norms, router gates and the head BF16.
     */
    public static List<List<SafetensorsWriter.Item>> of(ModelConfig c, DType linear) {
        long h = c.hiddenSize(), d = c.headDim(), i = c.intermediateSize();
        List<List<SafetensorsWriter.Item>> shards = new ArrayList<>();
        List<SafetensorsWriter.Item> outer = new ArrayList<>();
        outer.add(item("model.embed_tokens.weight", DType.BF16, c.vocabSize(), h));
        outer.add(item("model.norm.weight", DType.BF16, h));
        if (!c.tieWordEmbeddings()) outer.add(item("lm_head.weight", DType.BF16, c.vocabSize(), h));
        shards.add(outer);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            List<SafetensorsWriter.Item> s = new ArrayList<>();
            s.add(item(p + "input_layernorm.weight", DType.BF16, h));
            s.add(item(p + "post_attention_layernorm.weight", DType.BF16, h));
            linear(s, linear, p + "self_attn.q_proj.weight", c.numHeads() * d, h);
            linear(s, linear, p + "self_attn.k_proj.weight", c.numKvHeads() * d, h);
            linear(s, linear, p + "self_attn.v_proj.weight", c.numKvHeads() * d, h);
            linear(s, linear, p + "self_attn.o_proj.weight", h, c.numHeads() * d);
            if (c.isMoeLayer(l)) {
                s.add(item(p + "block_sparse_moe.gate.weight", DType.BF16, c.numExperts(), h));
                for (int e = 0; e < c.numExperts(); e++) {
                    linear(s, linear, ExpertNames.of(l, e, "w1"), i, h);
                    linear(s, linear, ExpertNames.of(l, e, "w2"), h, i);
                    linear(s, linear, ExpertNames.of(l, e, "w3"), i, h);
                }
                if (c.hasResidualMlp(l)) {
                    s.add(item(p + "residual_layernorm.weight", DType.BF16, h));
                    linear(s, linear, p + "residual_mlp.w1.weight", h, h);
                    linear(s, linear, p + "residual_mlp.w2.weight", h, h);
                    linear(s, linear, p + "residual_mlp.w3.weight", h, h);
                }
            } else {
                linear(s, linear, p + "block_sparse_moe.mlp.w1.weight", i, h);
                linear(s, linear, p + "block_sparse_moe.mlp.w2.weight", h, i);
                linear(s, linear, p + "block_sparse_moe.mlp.w3.weight", i, h);
            }
            shards.add(s);
        }
        return shards;
    }

    /**
     * Writes the shards of {@link #of} as {@code model-NNNNN-of-NNNNN.safetensors} with their data left as holes,
     * and {@code model.safetensors.index.json}; {@code config.json} is the caller's.
     */
    public static void writeSparse(Path dir, ModelConfig c, DType linear) {
        List<List<SafetensorsWriter.Item>> shards = of(c, linear);
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        ObjectNode weightMap = json.createObjectNode();
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            SafetensorsWriter.writeSparse(dir.resolve(file), shards.get(s), Map.of("format", "pt"));
            for (SafetensorsWriter.Item t : shards.get(s)) {
                weightMap.put(t.name(), file);
                total += t.byteSize();
            }
        }
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", weightMap);
        try {
            json.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("model.safetensors.index.json") + ": " + e.getMessage(), e);
        }
    }

    private static void linear(List<SafetensorsWriter.Item> out, DType dtype, String name, long rows, long cols) {
        out.add(item(name, dtype, rows, cols));
        if (dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2) out.add(item(name + "_scale", DType.F32, rows, 1));
    }

    private static SafetensorsWriter.Item item(String name, DType dtype, long... shape) {
        return new SafetensorsWriter.Item(name, dtype, shape, o -> {
            throw new IllegalStateException("a layout item has no data: " + name);
        });
    }
}
