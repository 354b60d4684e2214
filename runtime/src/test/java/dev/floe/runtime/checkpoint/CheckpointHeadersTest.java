package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Checkpoint#headers} (what {@code floe plan} and {@code floe inspect} read) validates shards as
 * {@link Checkpoint#open} does: a tensor in two shards, or an index that puts a tensor in the wrong shard, is an error.
 */
class CheckpointHeadersTest {
    static final Path ROOT = Path.of(System.getProperty("floe.root", ".."));

    @TempDir
    Path dir;

    private ModelConfig sparseCheckpoint() {
        ModelConfig c = ConfigReader.read(ROOT.resolve("fixtures/tiny-arctic"));
        CheckpointLayout.writeSparse(dir, c, DType.BF16);
        return c;
    }

    @Test
    void aTensorInTwoShardsIsAnError() throws IOException {
        ModelConfig c = sparseCheckpoint();
        assertEquals(c.numLayers() + 1, Checkpoint.headers(dir).size());
        Files.delete(dir.resolve("model.safetensors.index.json"));
        Files.copy(dir.resolve("model-00002-of-00005.safetensors"), dir.resolve("model-00009-copy.safetensors"));
        String m = assertThrows(ModelFormatException.class, () -> Checkpoint.headers(dir)).getMessage();
        assertTrue(m.contains("tensor model.layers.0.") && m.contains("appears in both model-00002-of-00005.safetensors and model-00009-copy.safetensors"), m);
    }

    @Test
    void anIndexThatPutsATensorInTheWrongShardIsAnError() throws IOException {
        sparseCheckpoint();
        Path index = dir.resolve("model.safetensors.index.json");
        String text = Files.readString(index);
        String wrong = text.replace("\"model.norm.weight\":\"model-00001-of-00005.safetensors\"",
                "\"model.norm.weight\":\"model-00002-of-00005.safetensors\"");
        assertFalse(wrong.equals(text), "the index names model.norm.weight in the first shard");
        Files.writeString(index, wrong);
        String m = assertThrows(ModelFormatException.class, () -> Checkpoint.headers(dir)).getMessage();
        assertTrue(m.endsWith("weight_map puts model.norm.weight in model-00002-of-00005.safetensors but it is in model-00001-of-00005.safetensors"), m);
    }

    @Test
    void containsOnlyWhatTheCheckpointHolds() {
        try (Checkpoint cp = Checkpoint.open(ROOT.resolve("fixtures/tiny-arctic"))) {
            assertTrue(cp.contains("model.norm.weight"));
            assertFalse(cp.contains("model.norm.weight.missing"));
        }
    }

    @Test
    void anFp8TensorsScaleMustFitItsShape() {
        SafetensorsWriter.Data none = o -> {
            throw new IllegalStateException("sparse");
        };
        SafetensorsWriter.writeSparse(dir.resolve("model.safetensors"), List.of(
                new SafetensorsWriter.Item("w", DType.F8_E4M3, new long[]{2, 4}, none),
                new SafetensorsWriter.Item("w_scale", DType.F32, new long[]{3}, none)), Map.of());
        try (Checkpoint cp = Checkpoint.open(dir)) {
            String m = assertThrows(ModelFormatException.class, () -> cp.tensor("w")).getMessage();
            assertEquals("tensor w_scale: shape [3] is no scale of w [2, 4] (expected a scalar, one per row or a block grid)", m);
        }
    }

    @Test
    void closingUnmapsTheTensorsOnceOnly() {
        Checkpoint cp = Checkpoint.open(ROOT.resolve("fixtures/tiny-arctic"));
        TensorData t = cp.tensor("model.norm.weight");
        t.data().get(ValueLayout.JAVA_BYTE, 0);
        cp.close();
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0), "the mapping is released");
        cp.close();
    }
}
