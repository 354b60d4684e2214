package dev.floe.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ModelFormatException;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.SafetensorsFile;
import dev.floe.runtime.checkpoint.SafetensorsWriter;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint split into shards (with {@code model.safetensors.index.json}, or found by listing the folder) loads
 * to the same model as the single file: the FP8 fixture is used so that a weight and its {@code weight_scale} can
 * land in different shards.
 */
class ShardedCheckpointTest {
    private static final Path FP8 = GoldenFixturesTest.root().resolve("fixtures/tiny-arctic-fp8");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SHARDS = 3;

    @TempDir
    Path tmp;

    @Test
    void shardsWithAnIndexReproduceTheGoldens() throws IOException {
        Path dir = shard(tmp.resolve("indexed"), true);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(SHARDS, ck.files().size());
        }
        assertGoldensPass(dir);
    }

    @Test
    void shardsWithoutAnIndexAreFoundByName() throws IOException {
        Path dir = shard(tmp.resolve("listed"), false);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(SHARDS, ck.files().size(), "golden.safetensors is not taken for a shard");
        }
        assertGoldensPass(dir);
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Path dir = shard(tmp.resolve("missing"), true);
        Files.delete(dir.resolve(shardName(2)));
        assertFails(dir, "model.safetensors.index.json", "shard " + shardName(2) + " does not exist");
    }

    @Test
    void indexPuttingATensorInTheWrongShard() throws IOException {
        Path dir = shard(tmp.resolve("wrong"), true);
        String name = editIndex(dir, map -> map.put(map.fieldNames().next(), shardName(SHARDS)));
        assertFails(dir, "weight_map puts " + name + " in " + shardName(SHARDS) + " but it is in " + shardName(1));
    }

    @Test
    void indexNamingATensorNoShardHolds() throws IOException {
        Path dir = shard(tmp.resolve("ghost"), true);
        editIndex(dir, map -> map.put("model.layers.9.ghost.weight", shardName(1)));
        assertFails(dir, "weight_map names tensor model.layers.9.ghost.weight but shard " + shardName(1) + " does not contain it");
    }

    @Test
    void indexWithAPathOutsideTheFolder() throws IOException {
        Path dir = shard(tmp.resolve("escape"), true);
        String name = editIndex(dir, map -> map.put(map.fieldNames().next(), "../" + shardName(1)));
        assertFails(dir, "weight_map." + name, "is not a shard file name");
    }

    /** Applies {@code edit} to the index's weight_map and returns the name of its first tensor. */
    private static String editIndex(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        Path file = dir.resolve("model.safetensors.index.json");
        ObjectNode index = (ObjectNode) JSON.readTree(file.toFile());
        ObjectNode map = (ObjectNode) index.get("weight_map");
        String first = map.fieldNames().next();
        edit.accept(map);
        Files.writeString(file, index.toString());
        return first;
    }

    @Test
    void indexThatIsNotJson() throws IOException {
        Path dir = shard(tmp.resolve("garbled"), true);
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {");
        assertFails(dir, "model.safetensors.index.json", "not valid JSON");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
        assertFails(dir, "model.safetensors.index.json", "weight_map is missing");
    }

    @Test
    void aTensorInTwoShards() throws IOException {
        Path dir = shard(tmp.resolve("twice"), false);
        try (SafetensorsFile first = SafetensorsFile.open(dir.resolve(shardName(1)))) {
            String name = first.names().getFirst();
            SafetensorsWriter.write(dir.resolve(shardName(SHARDS + 1)), List.of(first.tensor(name)), Map.of());
            assertFails(dir, "tensor " + name + " appears in both " + shardName(1) + " and " + shardName(SHARDS + 1));
        }
    }

    private static void assertGoldensPass(Path dir) {
        GoldenFixture golden = GoldenFixture.load(dir);
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            List<CheckResult> results = GoldenChecks.run(model, golden, dir.getFileName().toString(), r -> { });
            assertTrue(results.size() >= golden.prompts().size() * 3, "checks ran: " + results.size());
            assertEquals(List.of(), results.stream().filter(r -> !r.passed()).map(CheckResult::line).toList());
        }
    }

    private static void assertFails(Path dir, String... fragments) {
        LoadingErrorsTest.assertMessage(ModelFormatException.class,
                () -> FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { }).close(), fragments);
    }

    private static String shardName(int i) {
        return String.format("model-%05d-of-%05d.safetensors", i, SHARDS);
    }

    /**
     * Copies the FP8 fixture into {@code dir} with its weights dealt round-robin into {@link #SHARDS} files (so a
     * weight and its scale, adjacent in the original, land in different shards), with or without an index.
     */
    private static Path shard(Path dir, boolean index) throws IOException {
        Files.createDirectories(dir);
        for (String f : new String[]{"config.json", "golden.json", "golden.safetensors"}) Files.copy(FP8.resolve(f), dir.resolve(f));
        ObjectNode weightMap = JSON.createObjectNode();
        try (SafetensorsFile single = SafetensorsFile.open(FP8.resolve("model.safetensors"))) {
            List<List<SafetensorsWriter.Item>> shards = new ArrayList<>();
            for (int s = 0; s < SHARDS; s++) shards.add(new ArrayList<>());
            List<String> names = single.names();
            for (int i = 0; i < names.size(); i++) {
                shards.get(i % SHARDS).add(SafetensorsWriter.of(single.tensor(names.get(i))));
                weightMap.put(names.get(i), shardName(i % SHARDS + 1));
            }
            for (int s = 0; s < SHARDS; s++) SafetensorsWriter.writeItems(dir.resolve(shardName(s + 1)), shards.get(s), Map.of());
        }
        if (index) {
            ObjectNode root = JSON.createObjectNode();
            root.putObject("metadata").put("total_size", Files.size(FP8.resolve("model.safetensors")));
            root.set("weight_map", weightMap);
            Files.writeString(dir.resolve("model.safetensors.index.json"), root.toString());
        }
        return dir;
    }
}
