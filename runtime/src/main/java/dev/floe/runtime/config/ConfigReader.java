package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.api.ModelFormatException;
import dev.floe.api.RopeScaling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a Hugging Face {@code config.json} for the {@code arctic} and {@code mixtral} model types, applying the
 * defaults of the reference config classes (spec section 2) and rejecting impossible values with the field named.
 */
public final class ConfigReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigReader() {
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.exists(file)) throw new ModelFormatException(dir + ": no config.json");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /** Parses a config tree; {@code source} names it in errors. */
    public static ModelConfig parse(JsonNode root, String source) {
        if (root == null || !root.isObject()) throw new ModelFormatException(source + ": not a JSON object");
        Fields f = new Fields(root, source);
        String type = f.string("model_type", null);
        if (type == null) throw new ModelFormatException(source + ": field model_type is missing (expected arctic or mixtral)");
        ModelFamily family = ModelFamily.fromModelType(type);
        if (family == null) throw new ModelFormatException(source + ": model_type " + type + " is not supported (expected arctic or mixtral)");
        boolean arctic = family == ModelFamily.ARCTIC;
        int hidden = f.integer("hidden_size", 4096);
        int heads = f.integer("num_attention_heads", 32);
        int kvHeads = f.has("num_key_value_heads") && !root.get("num_key_value_heads").isNull()
                ? f.integer("num_key_value_heads", heads) : heads;
        int headDim;
        if (f.has("head_dim") && !root.get("head_dim").isNull()) {
            headDim = f.integer("head_dim", 0);
        } else {
            if (heads <= 0 || hidden % heads != 0) {
                throw new ModelFormatException(source + ": hidden_size " + hidden + " is not divisible by num_attention_heads "
                        + heads + " (and no head_dim is given)");
            }
            headDim = hidden / heads;
        }
        int freq = arctic ? f.integer("moe_layer_frequency", 2) : 1;
        boolean residual = arctic && (f.bool("parallel_attn_mlp_res", false) || f.bool("use_residual", false));
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.get("eos_token_id");
        if (eosNode != null && eosNode.isArray()) {
            for (JsonNode n : eosNode) eos.add(checkedInt(n, "eos_token_id", source));
        } else if (eosNode != null && !eosNode.isNull()) {
            eos.add(checkedInt(eosNode, "eos_token_id", source));
        }
        int bos = root.hasNonNull("bos_token_id") ? f.integer("bos_token_id", -1) : -1;
        try {
            RopeScalingReader rope = new RopeScalingReader(root, source);
            int maxPositionEmbeddings = f.integer("max_position_embeddings", 4096);
            RopeScaling scaling = maxPositionEmbeddings > 0 ? rope.scaling(maxPositionEmbeddings) : RopeScaling.NONE;
            return new ModelConfig(family,
                f.integer("vocab_size", 32000),
                hidden,
                f.integer("intermediate_size", 14336),
                f.integer("num_hidden_layers", 32),
                heads, kvHeads, headDim,
                f.integer("num_local_experts", 8),
                f.integer("num_experts_per_tok", arctic ? 1 : 2),
                freq, residual,
                rope.theta(f.number("rope_theta", 1e6)),
                f.number("rms_norm_eps", 1e-5),
                maxPositionEmbeddings > 0 ? scaling.contextLength(maxPositionEmbeddings) : maxPositionEmbeddings,
                f.bool("tie_word_embeddings", false),
                bos, eos,
                f.string("torch_dtype", "bfloat16"),
                QuantizationConfig.read(root.get("quantization_config"), source),
                scaling);
        } catch (ModelFormatException e) {
            // ModelConfig's own checks say "config: ..."; the field and quantization errors above already name the source
            if (!e.getMessage().startsWith("config: ")) throw e;
            throw new ModelFormatException(source + ": " + e.getMessage().substring("config: ".length()), e);
        }
    }

    /**
     * The router a model folder asks for in {@code config.json}'s {@code floe_router} field ({@code NAME[:k=v,...]}),
     * if any; an explicit option wins over it.
     */
    public static java.util.Optional<String> routerSpec(Path dir) {
        try {
            JsonNode n = JSON.readTree(dir.resolve("config.json").toFile()).get("floe_router");
            if (n == null || n.isNull()) return java.util.Optional.empty();
            if (!n.isTextual()) throw new ModelFormatException(dir.resolve("config.json") + ": field floe_router = " + n + " is not a string");
            return java.util.Optional.of(n.asText());
        } catch (IOException e) {
            throw new ModelFormatException(dir.resolve("config.json") + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The same config with a different KV head count (when the checkpoint's k_proj shape disagrees). */
    public static ModelConfig withKvHeads(ModelConfig c, int kvHeads) {
        return new ModelConfig(c.family(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(),
                kvHeads, c.headDim(), c.numExperts(), c.topK(), c.moeLayerFrequency(), c.parallelResidual(), c.ropeTheta(),
                c.rmsNormEps(), c.maxPositions(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.torchDtype(),
                c.quantization(), c.ropeScaling());
    }

    /**
     * Trusts the shape of {@code k_proj.weight} over {@code num_key_value_heads} (published Arctic revisions disagree),
     * reporting the correction through {@code warn}.
     */
    public static ModelConfig reconcileKvHeads(ModelConfig c, long[] kProjShape, Consumer<String> warn) {
        if (kProjShape == null || kProjShape.length != 2 || kProjShape[0] % c.headDim() != 0) return c;
        int fromShape = (int) (kProjShape[0] / c.headDim());
        if (fromShape == c.numKvHeads() || fromShape == 0 || c.numHeads() % fromShape != 0) return c;
        warn.accept("config says num_key_value_heads = " + c.numKvHeads() + " but model.layers.0.self_attn.k_proj.weight has "
                + kProjShape[0] + " rows = " + fromShape + " heads of " + c.headDim() + "; using " + fromShape);
        return withKvHeads(c, fromShape);
    }

    private static int checkedInt(JsonNode n, String field, String source) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(source + ": field " + field + " = " + n + " is not an integer");
        }
        return n.asInt();
    }

    /** Typed access to config fields with defaults; a present field of the wrong type is an error. */
    private record Fields(JsonNode root, String source) {
        boolean has(String name) {
            return root.has(name);
        }

        int integer(String name, int fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            return checkedInt(n, name, source);
        }

        double number(String name, double fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isNumber()) throw new ModelFormatException(source + ": field " + name + " = " + n + " is not a number");
            return n.asDouble();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isBoolean()) throw new ModelFormatException(source + ": field " + name + " = " + n + " is not true or false");
            return n.asBoolean();
        }

        String string(String name, String fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) return fallback;
            if (!n.isTextual()) throw new ModelFormatException(source + ": field " + name + " = " + n + " is not a string");
            return n.asText();
        }
    }
}
