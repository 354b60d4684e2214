package dev.floe.runtime;

import dev.floe.api.FloeException;
import dev.floe.api.GenerationRequest;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.SafetensorsFile;
import dev.floe.runtime.checkpoint.SafetensorsWriter;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an error that names the file, tensor, field or argument and the value at fault. */
class LoadingErrorsTest {
    static final Path MIXTRAL = GoldenFixturesTest.root().resolve("fixtures/tiny-mixtral");
    static final Path BUILT_IN = GoldenFixturesTest.root().resolve("models/arctic-tiny-code");
    static FloeModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A safetensors file from a raw header and data. */
    Path raw(String header, int dataBytes, long headerLength) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength < 0 ? h.length : headerLength).put(h);
        Path f = tmp.resolve("model.safetensors");
        Files.write(f, b.array());
        return f;
    }

    static void assertMessage(Class<? extends Throwable> type, Executable call, String... fragments) {
        Throwable e = assertThrows(type, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }

    @Test
    void truncatedFile() throws IOException {
        Path f = tmp.resolve("model.safetensors");
        Files.write(f, new byte[]{1, 2, 3});
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), f.toString(), "shorter than the 8-byte header");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path f = raw("{}", 0, 1L << 40);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), f.toString(), "header length 1099511627776");
    }

    @Test
    void headerNotJson() throws IOException {
        Path f = raw("{not json", 0, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "not valid JSON");
    }

    @Test
    void offsetsOutOfBounds() throws IOException {
        Path f = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "tensor a", "out of bounds", "[0, 16)");
    }

    @Test
    void offsetsOverlap() throws IOException {
        Path f = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "tensors a", "b", "overlap");
    }

    @Test
    void shapeDoesNotMatchSize() throws IOException {
        Path f = raw("{\"w\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", 16, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "tensor w", "needs 18 bytes", "hold 16");
    }

    @Test
    void unknownDtype() throws IOException {
        Path f = raw("{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "tensor w", "unknown dtype", "Q4_K");
    }

    @Test
    void negativeDimension() throws IOException {
        Path f = raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, -1);
        assertMessage(ModelFormatException.class, () -> SafetensorsFile.open(f), "tensor w", "invalid dimension");
    }

    /** A copy of tiny-mixtral whose tensors pass through {@code edit} and whose config gets {@code configEdit}. */
    Path editedMixtral(java.util.function.UnaryOperator<List<TensorData>> edit, String configFrom, String configTo) throws IOException {
        Path dir = tmp.resolve("edited");
        Files.createDirectories(dir);
        String config = Files.readString(MIXTRAL.resolve("config.json"));
        if (configFrom != null) {
            assertTrue(config.contains(configFrom), "config has " + configFrom);
            config = config.replace(configFrom, configTo);
        }
        Files.writeString(dir.resolve("config.json"), config);
        try (Checkpoint ck = Checkpoint.open(MIXTRAL)) {
            List<TensorData> all = new ArrayList<>();
            for (String n : ck.names()) all.add(ck.files().getFirst().tensor(n));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), edit.apply(all), Map.of());
        }
        return dir;
    }

    FloeModel loadCpu(Path dir) {
        return FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    @Test
    void missingTensor() throws IOException {
        String victim = "model.layers.1.self_attn.v_proj.weight";
        Path dir = editedMixtral(ts -> ts.stream().filter(t -> !t.name().equals(victim)).toList(), null, null);
        assertMessage(ModelFormatException.class, () -> loadCpu(dir).close(), dir.toString(), victim, "missing");
    }

    @Test
    void missingExpert() throws IOException {
        String victim = "model.layers.0.block_sparse_moe.experts.5.w2.weight";
        Path dir = editedMixtral(ts -> ts.stream().filter(t -> !t.name().equals(victim)).toList(), null, null);
        assertMessage(ModelFormatException.class, () -> loadCpu(dir).close(), victim, "missing");
    }

    @Test
    void wrongShape() throws IOException {
        String q = "model.layers.0.self_attn.k_proj.weight";
        Path dir2 = editedMixtral(ts -> ts.stream().map(t -> !t.name().equals(q) ? t
                : new TensorData(t.name(), t.dtype(), new long[]{t.shape()[1], t.shape()[0]}, t.data(), null)).toList(), null, null);
        assertMessage(ModelFormatException.class, () -> loadCpu(dir2).close(), q, "has shape [64, 32]", "config.json implies [64, 64]");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"num_attention_heads\": 4|\"num_attention_heads\": 5|num_attention_heads 5",
            "\"num_experts_per_tok\": 2|\"num_experts_per_tok\": 9|num_experts_per_tok 9 exceeds num_local_experts 8",
            "\"hidden_size\": 64|\"hidden_size\": -64|hidden_size must be positive, got -64",
            "\"model_type\": \"mixtral\"|\"model_type\": \"llama\"|model_type llama is not supported",
            "\"rms_norm_eps\": 1e-05|\"rms_norm_eps\": \"small\"|rms_norm_eps = \"small\" is not a number",
            "\"num_key_value_heads\": 2|\"num_key_value_heads\": 3|num_attention_heads 4 is not a multiple of num_key_value_heads 3"})
    void impossibleConfig(String from, String to, String expected) throws IOException {
        Path dir = editedMixtral(ts -> ts, from, to);
        assertMessage(ModelFormatException.class, () -> loadCpu(dir).close(), "config.json", expected);
    }

    @Test
    void contextTooLongForTheKvPool() throws IOException {
        // the default pool holds at least one full-context sequence: here 2^31 - 1 positions, far beyond the heap
        Path dir = editedMixtral(ts -> ts, "\"max_position_embeddings\": 512", "\"max_position_embeddings\": 2147483647");
        assertMessage(FloeException.class, () -> loadCpu(dir).close(), dir.toString(), "KV cache",
                "max_position_embeddings is 2147483647", "kv.blocks");
        try (FloeModel m = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector").withProperties(Map.of("kv.blocks", "64")), l -> { })) {
            assertEquals(64, m.kvBlocks().totalBlocks(), "kv.blocks sizes the pool instead");
        }
    }

    @Test
    void kvHeadsFromShapeWinOverConfig() throws IOException {
        // tiny-mixtral has 2 KV heads; a config claiming 4 is corrected from k_proj's shape
        Path dir = editedMixtral(ts -> ts, "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
        try (FloeModel m = loadCpu(dir)) {
            assertEquals(2, m.config().numKvHeads());
        }
    }

    @Test
    void routerFromTheModelConfig() throws IOException {
        Path dir = editedMixtral(ts -> ts, "\"model_type\": \"mixtral\"", "\"model_type\": \"mixtral\", \"floe_router\": \"hash:seed=3\"");
        try (FloeModel m = loadCpu(dir)) {
            assertEquals("hash", m.router());
        }
        try (FloeModel m = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector").withRouter("random"), l -> { })) {
            assertEquals("random", m.router(), "an explicit option wins");
        }
    }

    @Test
    void tokenIdsOutsideVocabulary() {
        try (Session s = model.newSession()) {
            assertMessage(InvalidRequestException.class, () -> s.prefill(new int[]{1, 4096}), "token id 4096", "[0, 4096)");
            assertMessage(InvalidRequestException.class, () -> s.next(-3), "token id -3");
            assertEquals(0, s.position(), "a rejected feed changes nothing");
        }
    }

    @Test
    void emptyPrompt() {
        assertMessage(InvalidRequestException.class, () -> GenerationRequest.of("", 4), "prompt is empty");
        assertMessage(InvalidRequestException.class, () -> GenerationRequest.ofIds(new int[0], 4), "prompt ids are empty");
        assertMessage(InvalidRequestException.class, () -> GenerationRequest.of("x", 0), "max_tokens must be at least 1, got 0");
    }

    @Test
    void promptLongerThanContext() {
        int[] ids = new int[model.config().maxPositions() + 5];
        java.util.Arrays.fill(ids, 5);
        assertMessage(InvalidRequestException.class, () -> model.generate(GenerationRequest.ofIds(ids, 4)),
                "prompt of 1029 tokens", "context of 1024");
        try (Session s = model.newSession(8)) {
            assertMessage(InvalidRequestException.class, () -> s.prefill(new int[9]), "exceed the session's capacity of 8");
        }
    }

    @Test
    void unknownRouterAndStoreAndBackend() {
        assertMessage(InvalidRequestException.class, () -> FloeEngine.load(BUILT_IN,
                ModelOptions.DEFAULTS.withBackend("cpu-vector").withRouter("no-such-router"), l -> { }).close(), "unknown router 'no-such-router'");
        assertMessage(InvalidRequestException.class, () -> FloeEngine.load(BUILT_IN,
                ModelOptions.DEFAULTS.withBackend("cpu-vector").withExpertStore("tape"), l -> { }).close(), "unknown expert store 'tape'");
        assertMessage(dev.floe.api.BackendUnavailableException.class, () -> FloeEngine.load(BUILT_IN,
                ModelOptions.DEFAULTS.withBackend("quantum"), l -> { }).close(), "no backend named 'quantum'");
    }
}
