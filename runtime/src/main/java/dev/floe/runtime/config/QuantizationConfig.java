package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.ModelFormatException;
import dev.floe.api.Quantization;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code quantization_config} of a {@code config.json} in the two FP8 forms that published checkpoints use:
 *
 * <ul>
 * <li>{@code quant_method: fp8} (transformers' FP8 and fine-grained FP8 configs, vLLM's {@code Fp8Config}, DeepSeek-V3
 *     and Qwen3 FP8): {@code fmt}, {@code weight_block_size} for {@code weight_scale_inv} block grids,
 *     {@code activation_scheme}, and the modules left alone under any of the names in use
 *     ({@code modules_not_converted}, {@code modules_to_not_convert}, {@code ignored_layers});</li>
 * <li>{@code quant_method: compressed-tensors} with {@code format: float-quantized} (llm-compressor's FP8, FP8_DYNAMIC
 *     and FP8_BLOCK schemes): every config group's {@code weights} must be 8-bit {@code float}, symmetric, with strategy
 *     {@code tensor}, {@code channel} or {@code block} (and its {@code block_structure}); {@code ignore} lists the modules
 *     left alone.</li>
 * </ul>
 * Activation settings ({@code activation_scheme}, {@code input_activations}, and the {@code input_scale} tensors of a
 * static scheme) are read past on purpose: Floe multiplies float32 activations by dequantised weights, so it needs no
 * activation scale. Anything else (integer weights, group strategies, other bit widths) is an error naming the field
 * and its value.
 */
final class QuantizationConfig {
    private QuantizationConfig() {
    }

    static Quantization read(JsonNode q, String source) {
        if (q == null || q.isNull()) return null;
        if (!q.isObject()) throw new ModelFormatException(source + ": quantization_config is not an object");
        String method = q.path("quant_method").asText("");
        return switch (method) {
            case "fp8" -> fp8(q, source);
            case "compressed-tensors" -> compressedTensors(q, source);
            default -> throw new ModelFormatException(source + ": quantization_config.quant_method " + q.path("quant_method")
                    + " is not supported (expected fp8 or compressed-tensors)");
        };
    }

    private static Quantization fp8(JsonNode q, String source) {
        String fmt = q.path("fmt").asText("e4m3");
        if (!fmt.equals("e4m3") && !fmt.equals("e5m2")) {
            throw new ModelFormatException(source + ": quantization_config.fmt " + fmt + " is not e4m3 or e5m2");
        }
        JsonNode scaleFmt = q.get("scale_fmt");
        if (scaleFmt != null && !scaleFmt.isNull() && !scaleFmt.asText().equals("ue8m0")) {
            // ue8m0 (DeepSeek-V3.1) only says the float32 scales are powers of two
            throw new ModelFormatException(source + ": quantization_config.scale_fmt " + scaleFmt + " is not supported");
        }
        List<Integer> block = blockSize(q.get("weight_block_size"), "quantization_config.weight_block_size", source);
        List<String> skip = new ArrayList<>();
        for (String field : List.of("modules_not_converted", "modules_to_not_convert", "ignored_layers")) {
            q.path(field).forEach(n -> skip.add(n.asText()));
        }
        String layout = block.isEmpty() ? q.path("weight_scale").asText("per_output_channel") : "block";
        return new Quantization("fp8", fmt, layout, skip, block);
    }

    private static Quantization compressedTensors(JsonNode q, String source) {
        String at = "quantization_config";
        String format = q.path("format").asText("float-quantized");
        if (!format.equals("float-quantized")) {
            throw new ModelFormatException(source + ": " + at + ".format " + format
                    + " is not supported (Floe reads float-quantized compressed-tensors checkpoints)");
        }
        JsonNode sparsity = q.path("sparsity_config").path("format");
        if (!sparsity.isMissingNode() && !sparsity.isNull() && !sparsity.asText().equals("dense")) {
            throw new ModelFormatException(source + ": " + at + ".sparsity_config.format " + sparsity + " is not supported");
        }
        JsonNode groups = q.get("config_groups");
        if (groups == null || !groups.isObject() || groups.isEmpty()) {
            throw new ModelFormatException(source + ": " + at + ".config_groups is missing or empty");
        }
        String layout = null;
        List<Integer> block = List.of();
        for (Iterator<Map.Entry<String, JsonNode>> it = groups.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> g = it.next();
            String field = at + ".config_groups." + g.getKey();
            String groupFormat = g.getValue().path("format").asText(format);
            if (!groupFormat.equals("float-quantized")) {
                throw new ModelFormatException(source + ": " + field + ".format " + groupFormat + " is not supported (expected float-quantized)");
            }
            JsonNode w = g.getValue().get("weights");
            if (w == null || !w.isObject()) throw new ModelFormatException(source + ": " + field + ".weights is missing");
            field += ".weights";
            if (!w.path("type").asText("").equals("float")) {
                throw new ModelFormatException(source + ": " + field + ".type " + w.path("type") + " is not supported (only float)");
            }
            if (w.path("num_bits").asInt(-1) != 8) {
                throw new ModelFormatException(source + ": " + field + ".num_bits " + w.path("num_bits") + " is not supported (only 8)");
            }
            if (!w.path("symmetric").asBoolean(true)) {
                throw new ModelFormatException(source + ": " + field + ".symmetric false is not supported (no zero points)");
            }
            if (w.path("dynamic").asBoolean(false)) {
                throw new ModelFormatException(source + ": " + field + ".dynamic true is not supported (weights need stored scales)");
            }
            String strategy = w.path("strategy").asText("");
            List<Integer> groupBlock = List.of();
            String groupLayout = switch (strategy) {
                case "tensor" -> "per_tensor";
                case "channel" -> "per_output_channel";
                case "block" -> {
                    groupBlock = blockSize(w.get("block_structure"), field + ".block_structure", source);
                    if (groupBlock.isEmpty()) {
                        throw new ModelFormatException(source + ": " + field + ".block_structure is missing for strategy block");
                    }
                    yield "block";
                }
                default -> throw new ModelFormatException(source + ": " + field + ".strategy " + w.path("strategy")
                        + " is not supported (expected tensor, channel or block)");
            };
            if (!groupBlock.isEmpty()) {
                if (!block.isEmpty() && !block.equals(groupBlock)) {
                    throw new ModelFormatException(source + ": " + field + ".block_structure " + groupBlock
                            + " differs from another group's " + block + " (Floe reads one block size per checkpoint)");
                }
                block = groupBlock;
            }
            layout = layout == null || layout.equals(groupLayout) ? groupLayout : "mixed";
        }
        List<String> skip = new ArrayList<>();
        q.path("ignore").forEach(n -> skip.add(n.asText()));
        return new Quantization("compressed-tensors", "e4m3", layout, skip, block);
    }

    /** {@code [rows, cols]} from a JSON array of two positive integers or compressed-tensors' older "RxC" string. */
    private static List<Integer> blockSize(JsonNode n, String field, String source) {
        if (n == null || n.isNull()) return List.of();
        List<Integer> out = new ArrayList<>();
        if (n.isTextual() && n.asText().matches("\\d+x\\d+")) {
            for (String p : n.asText().split("x")) out.add(Integer.parseInt(p));
        } else if (n.isArray()) {
            n.forEach(e -> out.add(e.canConvertToInt() && e.isIntegralNumber() ? e.asInt() : -1));
        }
        if (out.size() != 2 || out.get(0) < 1 || out.get(1) < 1) {
            throw new ModelFormatException(source + ": " + field + " " + n + " is not two positive integers [rows, cols]");
        }
        return out;
    }
}
