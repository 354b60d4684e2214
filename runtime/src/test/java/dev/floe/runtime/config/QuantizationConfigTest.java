package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ModelFormatException;
import dev.floe.api.Quantization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code quantization_config} as published checkpoints write it: DeepSeek-V3 and Qwen3 FP8 ({@code quant_method fp8}
 * with {@code weight_block_size}), DeepSeek-V3.1 ({@code scale_fmt ue8m0}), and llm-compressor's compressed-tensors
 * FP8_DYNAMIC and FP8_BLOCK schemes; and the errors for what Floe does not read.
 */
class QuantizationConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Quantization read(String quantizationConfig) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree("{\"model_type\": \"mixtral\", \"hidden_size\": 64, \"num_attention_heads\": 4}");
        root.set("quantization_config", JSON.readTree(quantizationConfig));
        return ConfigReader.parse(root, "config.json").quantization();
    }

    @Test
    void deepSeekV3AndQwen3Fp8() throws IOException {
        Quantization q = read("""
                {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}""");
        assertEquals(new Quantization("fp8", "e4m3", "block", List.of(), List.of(128, 128)), q);
        assertTrue(q.blockScaled());
        Quantization v31 = read("""
                {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "scale_fmt": "ue8m0",
                 "weight_block_size": [128, 128], "modules_to_not_convert": ["lm_head"]}""");
        assertEquals(List.of(128, 128), v31.weightBlockSize());
        assertEquals(List.of("lm_head"), v31.modulesNotConverted());
    }

    @Test
    void floesOwnPerChannelConfigIsUnchanged() throws IOException {
        Quantization q = read("""
                {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_scale": "per_output_channel",
                 "modules_not_converted": ["lm_head", "embed_tokens", "gate"]}""");
        assertEquals(new Quantization("fp8", "e4m3", "per_output_channel", List.of("lm_head", "embed_tokens", "gate")), q);
        assertFalse(q.blockScaled());
    }

    @Test
    void compressedTensorsFp8Block() throws IOException {
        Quantization q = read("""
                {"config_groups": {"group_0": {"format": "float-quantized",
                   "input_activations": {"actorder": null, "block_structure": null, "dynamic": true, "group_size": 128,
                     "num_bits": 8, "observer": null, "observer_kwargs": {}, "strategy": "group", "symmetric": true, "type": "float"},
                   "output_activations": null, "targets": ["Linear"],
                   "weights": {"actorder": null, "block_structure": [128, 128], "dynamic": false, "group_size": null,
                     "num_bits": 8, "observer": "minmax", "observer_kwargs": {}, "strategy": "block", "symmetric": true, "type": "float"}}},
                 "format": "float-quantized", "global_compression_ratio": null, "ignore": ["lm_head", "re:.*mlp.gate$"],
                 "kv_cache_scheme": null, "quant_method": "compressed-tensors", "quantization_status": "compressed",
                 "sparsity_config": {}, "transform_config": {}, "version": "0.11.0"}""");
        assertEquals(new Quantization("compressed-tensors", "e4m3", "block", List.of("lm_head", "re:.*mlp.gate$"), List.of(128, 128)), q);
    }

    @Test
    void compressedTensorsFp8DynamicPerChannelAndStaticPerTensor() throws IOException {
        Quantization channel = read("""
                {"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"],
                 "config_groups": {"group_0": {"targets": ["Linear"],
                   "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true, "dynamic": false},
                   "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "symmetric": true, "dynamic": true}}}}""");
        assertEquals("per_output_channel", channel.weightScale());
        assertEquals(List.of(), channel.weightBlockSize());
        // static activation scales (input_scale tensors) are read past: activations stay float32
        Quantization tensor = read("""
                {"quant_method": "compressed-tensors", "format": "float-quantized",
                 "config_groups": {"group_0": {"targets": ["Linear"],
                   "weights": {"num_bits": 8, "type": "float", "strategy": "tensor", "symmetric": true, "dynamic": false},
                   "input_activations": {"num_bits": 8, "type": "float", "strategy": "tensor", "symmetric": true, "dynamic": false}}}}""");
        assertEquals("per_tensor", tensor.weightScale());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "\"type\": \"int\", \"num_bits\": 8, \"strategy\": \"channel\" | config_groups.g.weights.type \"int\" is not supported",
            "\"type\": \"float\", \"num_bits\": 4, \"strategy\": \"channel\" | config_groups.g.weights.num_bits 4 is not supported",
            "\"type\": \"float\", \"num_bits\": 8, \"strategy\": \"group\", \"group_size\": 128 | config_groups.g.weights.strategy \"group\" is not supported",
            "\"type\": \"float\", \"num_bits\": 8, \"strategy\": \"block\" | config_groups.g.weights.block_structure is missing",
            "\"type\": \"float\", \"num_bits\": 8, \"strategy\": \"block\", \"block_structure\": [128, 0] | config_groups.g.weights.block_structure [128,0] is not two positive integers",
            "\"type\": \"float\", \"num_bits\": 8, \"strategy\": \"tensor\", \"symmetric\": false | config_groups.g.weights.symmetric false is not supported"})
    void unsupportedCompressedTensorsWeightsNameTheFieldAndValue(String weights, String message) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(
                "{\"quant_method\": \"compressed-tensors\", \"format\": \"float-quantized\", \"config_groups\": {\"g\": {\"weights\": {"
                        + weights + "}}}}"));
        assertTrue(e.getMessage().contains("quantization_config." + message), e.getMessage());
        assertTrue(e.getMessage().startsWith("config.json: "), e.getMessage());
    }

    @Test
    void otherUnsupportedFormsAreErrors() {
        assertMessage("{\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\", \"config_groups\": {}}",
                "quantization_config.format pack-quantized is not supported");
        assertMessage("{\"quant_method\": \"gptq\"}", "quantization_config.quant_method \"gptq\" is not supported");
        assertMessage("{\"quant_method\": \"fp8\", \"weight_block_size\": [128]}", "quantization_config.weight_block_size [128] is not two positive integers");
        assertMessage("{\"quant_method\": \"fp8\", \"fmt\": \"e3m4\"}", "quantization_config.fmt e3m4 is not e4m3 or e5m2");
        assertMessage("""
                {"quant_method": "compressed-tensors", "config_groups": {
                  "a": {"weights": {"num_bits": 8, "type": "float", "strategy": "block", "block_structure": [128, 128]}},
                  "b": {"weights": {"num_bits": 8, "type": "float", "strategy": "block", "block_structure": [64, 64]}}}}""",
                "config_groups.b.weights.block_structure [64, 64] differs from another group's [128, 128]");
    }

    private static void assertMessage(String config, String expected) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(config));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
