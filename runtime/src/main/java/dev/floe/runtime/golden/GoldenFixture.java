package dev.floe.runtime.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.SafetensorsFile;
import dev.floe.spi.FloatFormats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The golden outputs of a fixture folder ({@code golden.safetensors} and {@code golden.json}, format of
 * {@code fixtures/README.md}): per prompt its ids, the logits of one prefill pass, the greedy continuation and the
 * logits of each decode step; for prompt 0 the layer outputs and the routing of each MoE layer.
 */
public record GoldenFixture(Path dir, List<Prompt> prompts, List<Layer> layers) {

    /** One golden prompt. {@code text} and {@code greedyText} are present for models with a tokenizer. */
    public record Prompt(int index, int[] ids, float[][] logits, int[] decodeIds, float[][] decodeLogits,
                         Optional<String> text, Optional<String> greedyText) {
    }

    /** Prompt 0 seen at one layer: its output, and where it was routed (null for a dense layer). */
    public record Layer(int index, float[][] hidden, int[][] experts, float[][] weights) {
    }

    public static boolean isFixture(Path dir) {
        return Files.exists(dir.resolve("golden.safetensors"));
    }

    public static GoldenFixture load(Path dir) {
        Path file = dir.resolve("golden.safetensors");
        if (!Files.exists(file)) throw new ModelFormatException(dir + ": no golden.safetensors");
        JsonNode json = null;
        Path jsonFile = dir.resolve("golden.json");
        if (Files.exists(jsonFile)) {
            try {
                json = new ObjectMapper().readTree(jsonFile.toFile());
            } catch (IOException e) {
                throw new ModelFormatException(jsonFile + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            List<Prompt> prompts = new ArrayList<>();
            for (int j = 0; st.contains("prompt." + j + ".ids"); j++) {
                Optional<String> text = Optional.empty(), greedy = Optional.empty();
                JsonNode p = json == null ? null : json.path("prompts").path(j);
                if (p != null && p.has("text")) text = Optional.of(p.get("text").asText());
                if (p != null && p.has("greedy_text")) greedy = Optional.of(p.get("greedy_text").asText());
                prompts.add(new Prompt(j, ints(st, "prompt." + j + ".ids"), matrix(st, "prompt." + j + ".logits"),
                        ints(st, "decode." + j + ".ids"), matrix(st, "decode." + j + ".logits"), text, greedy));
            }
            if (prompts.isEmpty()) throw new ModelFormatException(file + ": no tensor prompt.0.ids");
            List<Layer> layers = new ArrayList<>();
            for (int l = 0; st.contains("prompt.0.hidden." + l); l++) {
                String r = "prompt.0.route." + l;
                boolean routed = st.contains(r + ".experts");
                layers.add(new Layer(l, matrix(st, "prompt.0.hidden." + l), routed ? intMatrix(st, r + ".experts") : null,
                        routed ? matrix(st, r + ".weights") : null));
            }
            return new GoldenFixture(dir, List.copyOf(prompts), List.copyOf(layers));
        }
    }

    private static TensorData tensor(SafetensorsFile st, String name) {
        if (!st.contains(name)) throw new ModelFormatException(st.path() + ": tensor " + name + " is missing");
        return st.tensor(name);
    }

    private static int[] ints(SafetensorsFile st, String name) {
        TensorData t = tensor(st, name);
        int[] out = new int[(int) t.numel()];
        for (int i = 0; i < out.length; i++) out[i] = (int) FloatFormats.read(t, i);
        return out;
    }

    private static int[][] intMatrix(SafetensorsFile st, String name) {
        TensorData t = tensor(st, name);
        int rows = (int) t.rows(), cols = (int) t.cols();
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r][c] = (int) FloatFormats.read(t, (long) r * cols + c);
        return out;
    }

    private static float[][] matrix(SafetensorsFile st, String name) {
        TensorData t = tensor(st, name);
        int rows = (int) t.rows(), cols = (int) t.cols();
        float[][] out = new float[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r][c] = FloatFormats.read(t, (long) r * cols + c);
        return out;
    }
}
