package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.api.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json parsing: the defaults of spec section 2, each field's type checked, errors naming the file and field. */
class ConfigReaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Just enough for a valid small model (vocab, sizes and a context the defaults would make huge). */
    private static final String SMALL = "\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":32,\"num_attention_heads\":4,"
            + "\"num_local_experts\":4,\"max_position_embeddings\":64";

    @TempDir
    Path dir;

    private static ModelConfig parse(String json) {
        try {
            return ConfigReader.parse(JSON.readTree(json), "cfg.json");
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }

    private static String rejected(String json) {
        return assertThrows(ModelFormatException.class, () -> parse(json)).getMessage();
    }

    @Test
    void arcticDefaultsAreTheReferenceConfigClasses() {
        ModelConfig c = parse("{\"model_type\":\"arctic\"," + SMALL + "}");
        assertEquals(ModelFamily.ARCTIC, c.family());
        assertEquals(32, c.numLayers());
        assertEquals(4, c.numKvHeads(), "no num_key_value_heads: as many as the query heads");
        assertEquals(16, c.headDim(), "hidden_size / heads");
        assertEquals(1, c.topK());
        assertEquals(2, c.moeLayerFrequency());
        assertFalse(c.parallelResidual());
        assertEquals(1e6, c.ropeTheta());
        assertEquals(1e-5, c.rmsNormEps());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(-1, c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
        assertEquals("bfloat16", c.torchDtype());
        assertNull(c.quantization());
        ModelConfig sizes = parse("{\"model_type\":\"mixtral\",\"max_position_embeddings\":64}");
        assertEquals(32000, sizes.vocabSize());
        assertEquals(4096, sizes.hiddenSize());
        assertEquals(14336, sizes.intermediateSize());
        assertEquals(32, sizes.numHeads());
        assertEquals(8, sizes.numExperts());
        ModelConfig context = parse("{\"model_type\":\"mixtral\"}");
        assertEquals(4096, context.maxPositions());
    }

    @Test
    void mixtralHasNoArcticFields() {
        ModelConfig c = parse("{\"model_type\":\"mixtral\"," + SMALL + ",\"moe_layer_frequency\":3,\"parallel_attn_mlp_res\":true}");
        assertEquals(2, c.topK(), "mixtral's default k");
        assertEquals(1, c.moeLayerFrequency(), "every mixtral layer is MoE whatever the field says");
        assertFalse(c.parallelResidual());
    }

    @Test
    void fieldsAreRead() {
        ModelConfig c = parse("{\"model_type\":\"arctic\"," + SMALL + ",\"num_hidden_layers\":3,\"num_key_value_heads\":2,"
                + "\"head_dim\":8,\"num_experts_per_tok\":2,\"moe_layer_frequency\":1,\"rope_theta\":10000,\"rms_norm_eps\":1e-6,"
                + "\"tie_word_embeddings\":true,\"bos_token_id\":1,\"eos_token_id\":[2,3],\"torch_dtype\":\"float32\"}");
        assertEquals(3, c.numLayers());
        assertEquals(2, c.numKvHeads());
        assertEquals(8, c.headDim(), "an explicit head_dim wins over hidden / heads");
        assertEquals(2, c.topK());
        assertEquals(1, c.moeLayerFrequency());
        assertEquals(10000, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(1, c.bosTokenId());
        assertEquals(List.of(2, 3), c.eosTokenIds());
        assertEquals("float32", c.torchDtype());
        assertEquals(List.of(7), parse("{\"model_type\":\"arctic\"," + SMALL + ",\"eos_token_id\":7}").eosTokenIds());
        assertEquals(List.of(), parse("{\"model_type\":\"arctic\"," + SMALL + ",\"eos_token_id\":null,\"bos_token_id\":null}").eosTokenIds());
        assertEquals(4, parse("{\"model_type\":\"arctic\"," + SMALL + ",\"num_key_value_heads\":null,\"head_dim\":null}").numKvHeads());
        assertTrue(parse("{\"model_type\":\"arctic\"," + SMALL + ",\"use_residual\":true}").parallelResidual());
        assertTrue(parse("{\"model_type\":\"arctic\"," + SMALL + ",\"parallel_attn_mlp_res\":true,\"use_residual\":false}").parallelResidual());
    }

    @Test
    void wrongTypesAndValuesNameTheField() {
        String a = "{\"model_type\":\"arctic\"," + SMALL;
        assertEquals("cfg.json: field num_hidden_layers = 1.5 is not an integer", rejected(a + ",\"num_hidden_layers\":1.5}"));
        assertEquals("cfg.json: field num_hidden_layers = 3000000000 is not an integer", rejected(a + ",\"num_hidden_layers\":3000000000}"));
        assertEquals("cfg.json: field rope_theta = \"big\" is not a number", rejected(a + ",\"rope_theta\":\"big\"}"));
        assertEquals("cfg.json: field tie_word_embeddings = 1 is not true or false", rejected(a + ",\"tie_word_embeddings\":1}"));
        assertEquals("cfg.json: field torch_dtype = 16 is not a string", rejected(a + ",\"torch_dtype\":16}"));
        assertEquals("cfg.json: field eos_token_id = \"2\" is not an integer", rejected(a + ",\"eos_token_id\":\"2\"}"));
        assertEquals("cfg.json: field eos_token_id = 2.5 is not an integer", rejected(a + ",\"eos_token_id\":[2.5]}"));
        assertEquals("cfg.json: num_hidden_layers must be positive, got 0", rejected(a + ",\"num_hidden_layers\":0}"),
                "ModelConfig's message, with the file instead of 'config:'");
        assertEquals("cfg.json: field model_type is missing (expected arctic or mixtral)", rejected("{" + SMALL + "}"));
        assertEquals("cfg.json: model_type llama is not supported (expected arctic or mixtral)", rejected("{\"model_type\":\"llama\"}"));
        assertEquals("cfg.json: not a JSON object", rejected("[1]"));
        assertEquals("cfg.json: hidden_size 64 is not divisible by num_attention_heads 3 (and no head_dim is given)",
                rejected("{\"model_type\":\"arctic\",\"hidden_size\":64,\"num_attention_heads\":3}"));
        assertTrue(rejected("{\"model_type\":\"arctic\",\"hidden_size\":64,\"num_attention_heads\":0}").contains("num_attention_heads 0"));
        assertEquals(24, parse("{\"model_type\":\"arctic\"," + SMALL.replace("\"num_attention_heads\":4", "\"num_attention_heads\":3")
                + ",\"head_dim\":24,\"num_key_value_heads\":1}").headDim(), "head_dim given: the division need not be exact");
    }

    @Test
    void quantizationIsFp8InEitherConfigForm() {
        String a = "{\"model_type\":\"arctic\"," + SMALL + ",\"quantization_config\":";
        var q = parse(a + "{\"quant_method\":\"fp8\",\"modules_not_converted\":[\"lm_head\"]}}").quantization();
        assertEquals("fp8", q.method());
        assertEquals("e4m3", q.format());
        assertEquals("per_output_channel", q.weightScale());
        assertEquals(List.of("lm_head"), q.modulesNotConverted());
        var e5 = parse(a + "{\"quant_method\":\"fp8\",\"fmt\":\"e5m2\",\"weight_scale\":\"per_tensor\"}}").quantization();
        assertEquals("e5m2", e5.format());
        assertEquals("per_tensor", e5.weightScale());
        assertNull(parse(a + "null}").quantization());
        assertEquals("cfg.json: quantization_config is not an object", rejected(a + "\"fp8\"}"));
        assertEquals("cfg.json: quantization_config.quant_method \"gptq\" is not supported (expected fp8 or compressed-tensors)",
                rejected(a + "{\"quant_method\":\"gptq\"}}"));
        assertTrue(rejected(a + "{}}").contains("quant_method"));
        assertEquals("cfg.json: quantization_config.fmt e3m4 is not e4m3 or e5m2", rejected(a + "{\"quant_method\":\"fp8\",\"fmt\":\"e3m4\"}}"));
    }

    @Test
    void readNamesTheFolderOrFile() throws IOException {
        assertEquals(dir + ": no config.json", assertThrows(ModelFormatException.class, () -> ConfigReader.read(dir)).getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":");
        assertTrue(assertThrows(ModelFormatException.class, () -> ConfigReader.read(dir)).getMessage()
                .startsWith(dir.resolve("config.json") + ": not valid JSON"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"arctic\"," + SMALL + ",\"num_hidden_layers\":-1}");
        assertEquals(dir.resolve("config.json") + ": num_hidden_layers must be positive, got -1",
                assertThrows(ModelFormatException.class, () -> ConfigReader.read(dir)).getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"arctic\"," + SMALL + "}");
        assertEquals(100, ConfigReader.read(dir).vocabSize());
    }

    @Test
    void routerSpecFromTheConfig() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"floe_router\":\"hash:seed=3\"}");
        assertEquals("hash:seed=3", ConfigReader.routerSpec(dir).orElseThrow());
        Files.writeString(dir.resolve("config.json"), "{\"floe_router\":null}");
        assertTrue(ConfigReader.routerSpec(dir).isEmpty());
        Files.writeString(dir.resolve("config.json"), "{}");
        assertTrue(ConfigReader.routerSpec(dir).isEmpty());
        Files.writeString(dir.resolve("config.json"), "{\"floe_router\":3}");
        assertEquals(dir.resolve("config.json") + ": field floe_router = 3 is not a string",
                assertThrows(ModelFormatException.class, () -> ConfigReader.routerSpec(dir)).getMessage());
        Files.writeString(dir.resolve("config.json"), "{");
        assertTrue(assertThrows(ModelFormatException.class, () -> ConfigReader.routerSpec(dir)).getMessage().contains("not valid JSON"));
    }

    @Test
    void kvHeadsFollowTheKProjShape() {
        // 8 query heads of 16: k_proj with 32 rows means 2 KV heads whatever the config says
        ModelConfig c = parse("{\"model_type\":\"arctic\",\"vocab_size\":100,\"hidden_size\":128,\"num_attention_heads\":8,"
                + "\"num_key_value_heads\":8,\"num_local_experts\":4,\"max_position_embeddings\":64}");
        List<String> warnings = new ArrayList<>();
        ModelConfig fixed = ConfigReader.reconcileKvHeads(c, new long[]{32, 128}, warnings::add);
        assertEquals(2, fixed.numKvHeads());
        assertEquals(List.of("config says num_key_value_heads = 8 but model.layers.0.self_attn.k_proj.weight has 32 rows = 2 heads of 16; using 2"),
                warnings);
        assertEquals(c.hiddenSize(), fixed.hiddenSize());
        assertEquals(c.maxPositions(), fixed.maxPositions());
        assertSame(c, ConfigReader.reconcileKvHeads(c, new long[]{128, 128}, warnings::add), "the shape agrees");
        assertSame(c, ConfigReader.reconcileKvHeads(c, null, warnings::add));
        assertSame(c, ConfigReader.reconcileKvHeads(c, new long[]{32}, warnings::add), "not a matrix");
        assertSame(c, ConfigReader.reconcileKvHeads(c, new long[]{40, 128}, warnings::add), "not whole heads");
        assertSame(c, ConfigReader.reconcileKvHeads(c, new long[]{0, 128}, warnings::add), "no heads");
        assertSame(c, ConfigReader.reconcileKvHeads(c, new long[]{48, 128}, warnings::add), "3 heads do not divide 8");
        assertEquals(1, warnings.size());
        ModelConfig same = ConfigReader.withKvHeads(c, 8);
        assertEquals(c, same);
    }
}
