package dev.floe.runtime.quantize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.SafetensorsWriter;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Writes an FP8 E4M3 copy of a checkpoint: every linear weight becomes {@code X.weight} (F8_E4M3, [out, in]) plus a
 * float32 scale laid out as {@link Options#scales()} says, {@code scale = max|values it covers| / 448}, saturating
 * round-to-nearest-even. Embeddings, norms and router gates keep their dtype, and so does the head unless
 * {@link Options#head()} asks for it too. Tensors are converted one at a time and streamed to the output file.
 *
 * <p>Two ways to write it down ({@link Format}): {@code quant_method: fp8} as transformers, vLLM and DeepSeek-V3 /
 * Qwen3 FP8 checkpoints do (a block grid is then {@code X.weight_scale_inv} with {@code weight_block_size}; a per-row
 * or per-tensor scale is {@code X.weight_scale}, spec section 7), or compressed-tensors {@code float-quantized} as
 * llm-compressor does ({@code X.weight_scale} for every strategy, one config group).
 */
public final class Fp8Quantizer {
    /** Module name fragments left unquantised, as recorded in the output config. */
    public static final List<String> NOT_CONVERTED = List.of("lm_head", "embed_tokens", "gate", "norm");
    private static final String HEAD = "lm_head";
    private static final List<String> COPIED = List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json",
            "special_tokens_map.json", "chat_template.jinja");

    private Fp8Quantizer() {
    }

    /** How the config and scale names are written. */
    public enum Format {
        /** {@code quant_method: fp8} (transformers, vLLM, DeepSeek-V3, Qwen3 FP8). */
        FP8,
        /** {@code quant_method: compressed-tensors}, {@code format: float-quantized} (llm-compressor). */
        COMPRESSED_TENSORS
    }

    /**
     * What to write: the scale layout, the config convention, and whether {@code lm_head} is quantised too (published
     * FP8 checkpoints keep it BF16; llama.cpp's Q8_0 quantises its {@code output.weight}, which halves the head's
     * share of the bytes read per decoded token).
     */
    public record Options(ScaleLayout scales, Format format, boolean head) {
        /** Floe's original form: one scale per output row, {@code quant_method: fp8}, the head kept. */
        public static final Options DEFAULT = new Options(new ScaleLayout.Channel(), Format.FP8);

        public Options {
            if (scales == null || format == null) throw new IllegalArgumentException("scales and format are required");
        }

        /** The head kept in its dtype, as published FP8 checkpoints have it. */
        public Options(ScaleLayout scales, Format format) {
            this(scales, format, false);
        }

        /** Module name fragments left unquantised, as recorded in the output config. */
        List<String> notConverted() {
            return head ? NOT_CONVERTED.stream().filter(m -> !m.equals(HEAD)).toList() : NOT_CONVERTED;
        }

        /** The suffix of a weight's scale tensor. */
        String scaleSuffix() {
            return format == Format.FP8 && scales instanceof ScaleLayout.Block ? "_scale_inv" : "_scale";
        }
    }

    /** Summary of a conversion. */
    public record Report(int quantised, int kept, long bytesIn, long bytesOut) {
    }

    /** Whether a tensor is quantised: a 2-D float weight outside the excluded modules. */
    static boolean quantises(TensorData t, Options options) {
        return quantises(t.name(), t.shape(), t.dtype(), options.head());
    }

    /**
     * The same rule from a tensor's header alone (name, shape, dtype), so {@code floe plan} can size an FP8 copy of a
     * checkpoint it never reads.
     */
    public static boolean quantises(String name, long[] shape, DType dtype) {
        return quantises(name, shape, dtype, false);
    }

    /** The same rule, with {@code head} saying whether {@code lm_head} is quantised too. */
    public static boolean quantises(String name, long[] shape, DType dtype, boolean head) {
        if (!name.endsWith(".weight") || shape.length != 2 || !dtype.isFloat()) return false;
        if (dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2) return false;
        if (name.endsWith(".gate.weight")) return false;
        if (head && name.equals(HEAD + ".weight")) return true;
        return NOT_CONVERTED.stream().filter(s -> !s.equals("gate")).noneMatch(name::contains);
    }

    /** Per-row scales, {@code quant_method: fp8}. */
    public static Report quantise(Path in, Path out, IntConsumer progress) {
        return quantise(in, out, Options.DEFAULT, progress);
    }

    public static Report quantise(Path in, Path out, Options options, IntConsumer progress) {
        ConfigReader.read(in); // validate before writing anything
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new ModelFormatException("output folder " + out + " is the input folder");
        }
        try (Checkpoint ck = Checkpoint.open(in)) {
            Files.createDirectories(out);
            List<SafetensorsWriter.Item> items = new ArrayList<>();
            int quantised = 0, kept = 0;
            long bytesOut = 0;
            int index = 0;
            for (String name : ck.names()) {
                int position = ++index;
                if (ck.isScale(name)) continue; // written with its weight
                TensorData t = ck.tensor(name);
                if (!quantises(t, options)) {
                    items.add(SafetensorsWriter.of(t.withScale(null)));
                    if (t.scale() != null) items.add(SafetensorsWriter.of(t.scale())); // an already quantised weight
                    bytesOut += t.byteSize();
                    kept++;
                    continue;
                }
                long rows = t.shape()[0], cols = t.shape()[1];
                float[] scales = scales(t, options.scales());
                items.add(new SafetensorsWriter.Item(name, DType.F8_E4M3, new long[]{rows, cols}, o -> {
                    byte[] row = new byte[(int) cols];
                    for (long r = 0; r < rows; r++) {
                        for (long c = 0; c < cols; c++) {
                            float s = scales[(int) options.scales().index(r, c, cols)];
                            row[(int) c] = (byte) FloatFormats.floatToE4m3(value(t, r * cols + c) / s, true);
                        }
                        o.write(row);
                    }
                    progress.accept(position);
                }));
                items.add(new SafetensorsWriter.Item(name + options.scaleSuffix(), DType.F32, scaleShape(options.scales(), rows, cols), o -> {
                    ByteBuffer b = ByteBuffer.allocate(scales.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    for (float s : scales) b.putFloat(s);
                    o.write(b.array());
                }));
                bytesOut += rows * cols + scales.length * 4L;
                quantised++;
            }
            SafetensorsWriter.writeItems(out.resolve("model.safetensors"), items, Map.of("format", "pt", "quantized_by", "floe"));
            writeConfig(in, out, options);
            for (String f : COPIED) {
                if (Files.exists(in.resolve(f))) Files.copy(in.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return new Report(quantised, kept, ck.bytesMapped(), bytesOut);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** One scale per element of the layout: the largest magnitude it covers over 448, or 1 where all are zero. */
    static float[] scales(TensorData t, ScaleLayout layout) {
        long rows = t.shape()[0], cols = t.shape()[1];
        long n = switch (layout) {
            case ScaleLayout.Tensor x -> 1;
            case ScaleLayout.Channel x -> rows;
            case ScaleLayout.Block b -> b.gridRows(rows) * b.gridCols(cols);
        };
        float[] max = new float[Math.toIntExact(n)];
        for (long r = 0; r < rows; r++) {
            for (long c = 0; c < cols; c++) {
                int at = (int) layout.index(r, c, cols);
                max[at] = Math.max(max[at], Math.abs(value(t, r * cols + c)));
            }
        }
        for (int i = 0; i < max.length; i++) max[i] = max[i] > 0 && Float.isFinite(max[i]) ? max[i] / FloatFormats.E4M3_MAX : 1f;
        return max;
    }

    private static long[] scaleShape(ScaleLayout layout, long rows, long cols) {
        return switch (layout) {
            case ScaleLayout.Tensor x -> new long[]{1};
            case ScaleLayout.Channel x -> new long[]{rows, 1};
            case ScaleLayout.Block b -> new long[]{b.gridRows(rows), b.gridCols(cols)};
        };
    }

    private static float value(TensorData t, long i) {
        return FloatFormats.read(t, i) * FloatFormats.scale(t, i / t.cols());
    }

    private static void writeConfig(Path in, Path out, Options options) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode config = (ObjectNode) json.readTree(in.resolve("config.json").toFile());
        config.remove("quantization_config");
        ObjectNode q = config.putObject("quantization_config");
        if (options.format() == Format.FP8) {
            q.put("quant_method", "fp8");
            q.put("fmt", "e4m3");
            q.put("activation_scheme", "dynamic");
            if (options.scales() instanceof ScaleLayout.Block b) {
                q.putArray("weight_block_size").add(b.rows()).add(b.cols());
            } else {
                q.put("weight_scale", options.scales() instanceof ScaleLayout.Tensor ? "per_tensor" : "per_output_channel");
            }
            var skip = q.putArray("modules_not_converted");
            options.notConverted().forEach(skip::add);
        } else {
            compressedTensors(q, options);
        }
        json.writeValue(out.resolve("config.json").toFile(), config);
    }

    /** llm-compressor's FP8_DYNAMIC (tensor, channel) or FP8_BLOCK scheme, one group over every Linear. */
    private static void compressedTensors(ObjectNode q, Options options) {
        ScaleLayout layout = options.scales();
        ObjectNode group = q.putObject("config_groups").putObject("group_0");
        group.put("format", "float-quantized");
        group.putArray("targets").add("Linear");
        ObjectNode w = group.putObject("weights");
        w.put("num_bits", 8);
        w.put("type", "float");
        w.put("symmetric", true);
        w.put("dynamic", false);
        w.put("strategy", switch (layout) {
            case ScaleLayout.Tensor x -> "tensor";
            case ScaleLayout.Channel x -> "channel";
            case ScaleLayout.Block b -> "block";
        });
        if (layout instanceof ScaleLayout.Block b) w.putArray("block_structure").add(b.rows()).add(b.cols());
        else w.putNull("block_structure");
        w.putNull("group_size");
        w.put("observer", "minmax");
        ObjectNode a = group.putObject("input_activations");
        a.put("num_bits", 8);
        a.put("type", "float");
        a.put("symmetric", true);
        a.put("dynamic", true);
        a.put("strategy", "token");
        a.putNull("observer");
        group.putNull("output_activations");
        q.put("format", "float-quantized");
        var ignore = q.putArray("ignore");
        if (!options.head()) ignore.add(HEAD);
        ignore.add("re:.*block_sparse_moe\\.gate$");
        q.putNull("kv_cache_scheme");
        q.put("quant_method", "compressed-tensors");
        q.put("quantization_status", "compressed");
    }
}
