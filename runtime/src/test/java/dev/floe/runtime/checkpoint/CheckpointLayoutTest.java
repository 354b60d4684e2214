package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.DType;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tensor layout {@code floe plan} sizes and {@code writeSparse} writes, against real checkpoints: the names and
 * shapes of the tiny-arctic fixtures (BF16, and FP8 with row scales; dense and MoE layers, residual MLP, untied head)
 * and the parameter count {@link ModelConfig#parameterCount()} computes on its own.
 */
class CheckpointLayoutTest {
    static final Path ROOT = Path.of(System.getProperty("floe.root", ".."));

    @TempDir
    Path dir;

    /** Name to shape (as text) of every tensor in the model shards of a checkpoint directory. */
    private static Map<String, String> shapesOf(Path checkpoint) throws IOException {
        Map<String, String> shapes = new TreeMap<>();
        try (Stream<Path> files = Files.list(checkpoint)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("model")
                    && p.toString().endsWith(".safetensors")).toList()) {
                for (TensorHeader t : SafetensorsHeader.read(f).tensors().values()) shapes.put(t.name(), Arrays.toString(t.shape()));
            }
        }
        return shapes;
    }

    private static Map<String, String> shapesOf(List<List<SafetensorsWriter.Item>> shards) {
        Map<String, String> shapes = new TreeMap<>();
        for (List<SafetensorsWriter.Item> shard : shards) for (SafetensorsWriter.Item t : shard) shapes.put(t.name(), Arrays.toString(t.shape()));
        return shapes;
    }

    @Test
    void theLayoutNamesAndShapesTheTensorsOfTheRealCheckpoints() throws IOException {
        ModelConfig c = ConfigReader.read(ROOT.resolve("fixtures/tiny-arctic"));
        assertTrue(!c.tieWordEmbeddings() && c.hasResidualMlp(1) && !c.isMoeLayer(0) && c.isMoeLayer(1), "the fixture covers each branch");
        assertEquals(shapesOf(ROOT.resolve("fixtures/tiny-arctic")), shapesOf(CheckpointLayout.of(c, DType.BF16)));
        assertEquals(shapesOf(ROOT.resolve("fixtures/tiny-arctic-fp8")), shapesOf(CheckpointLayout.of(c, DType.F8_E4M3)));
    }

    @Test
    void theLayoutHoldsTheConfigsParametersOneShardPerLayer() {
        ModelConfig c = ConfigReader.read(ROOT.resolve("fixtures/tiny-arctic"));
        for (DType linear : List.of(DType.BF16, DType.F8_E4M3)) {
            List<List<SafetensorsWriter.Item>> shards = CheckpointLayout.of(c, linear);
            assertEquals(c.numLayers() + 1, shards.size());
            long params = shards.stream().flatMap(List::stream).filter(t -> !t.name().endsWith("_scale"))
                    .mapToLong(t -> Arrays.stream(t.shape()).reduce(1, Math::multiplyExact)).sum();
            assertEquals(c.parameterCount(), params, linear.toString());
        }
    }

    @Test
    void writeSparseWritesEveryShardAndAnIndexOfThem() throws IOException {
        ModelConfig c = ConfigReader.read(ROOT.resolve("fixtures/tiny-arctic"));
        CheckpointLayout.writeSparse(dir, c, DType.F8_E4M3);
        List<List<SafetensorsWriter.Item>> shards = CheckpointLayout.of(c, DType.F8_E4M3);
        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        long total = shards.stream().flatMap(List::stream).mapToLong(SafetensorsWriter.Item::byteSize).sum();
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        int n = shards.size();
        for (int s = 0; s < n; s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, n);
            SafetensorsHeader h = SafetensorsHeader.read(dir.resolve(file));
            assertEquals(shards.get(s).size(), h.tensors().size(), file);
            for (SafetensorsWriter.Item t : shards.get(s)) assertEquals(file, index.get("weight_map").get(t.name()).asText(), t.name());
        }
        assertEquals(shapesOf(CheckpointLayout.of(c, DType.F8_E4M3)), shapesOf(dir));
    }
}
