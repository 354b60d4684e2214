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
 * Writes an FP8 E4M3 copy of a checkpoint in the {@code weight_scale} convention of spec section 7: every linear
 * weight becomes {@code X.weight} (F8_E4M3, [out, in]) plus {@code X.weight_scale} (F32, [out, 1]) with
 * {@code scale = max|row| / 448}, saturating round-to-nearest-even; embeddings, norms, router gates and the head
 * keep their dtype. Tensors are converted one at a time and streamed to the output file.
 */
public final class Fp8Quantizer {
    /** Module name fragments left unquantised, as recorded in the output config. */
    public static final List<String> NOT_CONVERTED = List.of("lm_head", "embed_tokens", "gate", "norm");
    private static final List<String> COPIED = List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json",
            "special_tokens_map.json", "chat_template.jinja");

    private Fp8Quantizer() {
    }

    /** Summary of a conversion. */
    public record Report(int quantised, int kept, long bytesIn, long bytesOut) {
    }

    /** Whether a tensor is quantised: a 2-D float weight outside the excluded modules. */
    static boolean quantises(TensorData t) {
        return quantises(t.name(), t.shape(), t.dtype());
    }

    /**
     * The same rule from a tensor's header alone (name, shape, dtype), so {@code floe plan} can size an FP8 copy of a
     * checkpoint it never reads.
     */
    public static boolean quantises(String name, long[] shape, DType dtype) {
        if (!name.endsWith(".weight") || shape.length != 2 || !dtype.isFloat()) return false;
        if (dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2) return false;
        if (name.endsWith(".gate.weight")) return false;
        return NOT_CONVERTED.stream().filter(s -> !s.equals("gate")).noneMatch(name::contains);
    }

    public static Report quantise(Path in, Path out, IntConsumer progress) {
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
                TensorData t = ck.tensor(name);
                int position = ++index;
                if (name.endsWith("_scale") && ck.contains(name.substring(0, name.length() - "_scale".length()))) {
                    items.add(SafetensorsWriter.of(t)); // an existing scale of an already quantised weight
                    kept++;
                    continue;
                }
                if (!quantises(t)) {
                    items.add(SafetensorsWriter.of(t));
                    bytesOut += t.data().byteSize();
                    kept++;
                    continue;
                }
                long rows = t.shape()[0], cols = t.shape()[1];
                float[] scales = new float[(int) rows];
                items.add(new SafetensorsWriter.Item(name, DType.F8_E4M3, new long[]{rows, cols}, o -> {
                    byte[] row = new byte[(int) cols];
                    for (long r = 0; r < rows; r++) {
                        float max = 0;
                        for (long c = 0; c < cols; c++) max = Math.max(max, Math.abs(value(t, r * cols + c)));
                        float scale = max > 0 && Float.isFinite(max) ? max / FloatFormats.E4M3_MAX : 1f;
                        scales[(int) r] = scale;
                        for (long c = 0; c < cols; c++) {
                            row[(int) c] = (byte) FloatFormats.floatToE4m3(value(t, r * cols + c) / scale, true);
                        }
                        o.write(row);
                    }
                    progress.accept(position);
                }));
                items.add(new SafetensorsWriter.Item(name + "_scale", DType.F32, new long[]{rows, 1}, o -> {
                    ByteBuffer b = ByteBuffer.allocate(scales.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    for (float s : scales) b.putFloat(s);
                    o.write(b.array());
                }));
                bytesOut += rows * cols + rows * 4;
                quantised++;
            }
            SafetensorsWriter.writeItems(out.resolve("model.safetensors"), items, Map.of("format", "pt", "quantized_by", "floe"));
            writeConfig(in, out);
            for (String f : COPIED) {
                if (Files.exists(in.resolve(f))) Files.copy(in.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return new Report(quantised, kept, ck.bytesMapped(), bytesOut);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    private static float value(TensorData t, long i) {
        return FloatFormats.read(t, i) * FloatFormats.scale(t, i / t.cols());
    }

    private static void writeConfig(Path in, Path out) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode config = (ObjectNode) json.readTree(in.resolve("config.json").toFile());
        ObjectNode q = config.putObject("quantization_config");
        q.put("quant_method", "fp8");
        q.put("fmt", "e4m3");
        q.put("activation_scheme", "dynamic");
        q.put("weight_scale", "per_output_channel");
        var skip = q.putArray("modules_not_converted");
        NOT_CONVERTED.forEach(skip::add);
        json.writeValue(out.resolve("config.json").toFile(), config);
    }
}
