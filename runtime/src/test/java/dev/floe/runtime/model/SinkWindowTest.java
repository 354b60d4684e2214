package dev.floe.runtime.model;

import dev.floe.api.FinishReason;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.generate.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attention-sink windows (keys cached before RoPE, rolled block table) on the built-in model. */
class SinkWindowTest {
    static final Path BUILT_IN = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
    static FloeModel model;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void aWindowAsLongAsTheSequenceEqualsOrdinaryAttention() {
        int[] prompt = model.tokenizer().encode("def fibonacci(n):\n    if n < 2:\n        return n\n    return", true);
        float[][] expected;
        try (Session plain = model.newSession(256)) {
            expected = plain.prefill(prompt);
            float[][] more = new float[][]{plain.next(Sampler.argmax(expected[expected.length - 1]))};
            expected = append(expected, more);
        }
        try (Session sink = model.newSinkSession(new SinkWindow(4, 128))) {
            float[][] actual = sink.prefill(prompt);
            actual = append(actual, new float[][]{sink.next(Sampler.argmax(actual[actual.length - 1]))});
            assertEquals(expected.length, actual.length);
            for (int r = 0; r < expected.length; r++) {
                for (int v = 0; v < expected[r].length; v++) {
                    assertEquals(expected[r][v], actual[r][v], 1e-5f, "row " + r + " logit " + v);
                }
            }
        }
    }

    @Test
    void closingTheModelClosesItsSinkSessionsAndReturnsTheirBlocks() {
        FloeModel own = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        int free = own.kvBlocks().freeBlocks();
        Session sink = own.newSinkSession(new SinkWindow(4, 64));
        sink.prefillLast(own.tokenizer().encode("import os\n", true));
        assertTrue(own.kvBlocks().freeBlocks() < free, "the session holds blocks");
        own.close();
        assertEquals(free, own.kvBlocks().freeBlocks(), "blocks of a sink session left open when the model closed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sink.next(1));
        assertEquals("session is closed", e.getMessage());
    }

    @Test
    void generationRunsFarPastTheContextWithFiniteLogits() {
        int context = model.config().maxPositions();
        int steps = 3000;
        assertTrue(steps > 2 * context);
        int used = model.kvBlocks().usedBlocks();
        try (Session s = model.newSinkSession(new SinkWindow(4, 256))) {
            float[] logits = s.prefillLast(model.tokenizer().encode("import os\n", true));
            int maxBlocks = 0;
            for (int i = 0; i < steps; i++) {
                for (float x : logits) assertTrue(Float.isFinite(x), "step " + i + ": logit " + x);
                logits = s.next(Sampler.argmax(logits));
                maxBlocks = Math.max(maxBlocks, model.kvBlocks().usedBlocks() - used);
            }
            assertTrue(s.position() > steps);
            // 1 sink block + 16 window blocks of 16 tokens: evicted blocks go back to the pool
            assertTrue(maxBlocks <= 17, "blocks held: " + maxBlocks);
        }
        assertEquals(used, model.kvBlocks().usedBlocks());
    }

    /**
     * After eviction the logits must be those of attention over exactly the kept tokens (the sink block and the newest
     * whole window blocks) at their indices in the cache. With one layer a token's key and value depend on the token
     * alone, so a plain session prefilling the kept tokens from index 0 is an exact oracle: a wrong block evicted, a
     * stale block table or keys rotated by their text position instead of their cache index all change the logits.
     */
    @Test
    void afterEvictionTheLogitsAreThoseOfTheKeptTokens(@TempDir Path dir) throws Exception {
        Path mixtral = Path.of(System.getProperty("floe.root"), "fixtures", "tiny-mixtral");
        String config = Files.readString(mixtral.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), mixtral.resolve("model.safetensors").toAbsolutePath());
        try (FloeModel oneLayer = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            assertEquals(1, oneLayer.config().numLayers());
            SinkWindow window = new SinkWindow(4, 64);
            SinkWindow.Layout layout = oneLayer.sinkLayout(window);
            int block = layout.blockSize(), sinkTokens = layout.sinkBlocks() * block;
            java.util.List<Integer> kept = new java.util.ArrayList<>();
            java.util.SplittableRandom random = new java.util.SplittableRandom(5);
            int compared = 0, evictions = 0;
            try (Session sink = oneLayer.newSinkSession(window)) {
                for (int step = 0; step < 3 * layout.capacityTokens(); step++) {
                    int id = 3 + random.nextInt(oneLayer.config().vocabSize() - 3);
                    if (kept.size() + 1 > layout.capacityTokens()) {
                        kept.subList(sinkTokens, sinkTokens + block).clear(); // the oldest window block
                        evictions++;
                    }
                    kept.add(id);
                    float[] actual = sink.next(id);
                    if (evictions == 0 || step % 4 != 0) continue; // before the first eviction the first test covers it
                    float[] expected;
                    try (Session plain = oneLayer.newSession(layout.capacityTokens())) {
                        expected = plain.prefillLast(kept.stream().mapToInt(Integer::intValue).toArray());
                    }
                    for (int v = 0; v < expected.length; v++) {
                        assertEquals(expected[v], actual[v], 1e-4f * (1 + Math.abs(expected[v])), "step " + step + " logit " + v);
                    }
                    compared++;
                }
            }
            assertTrue(evictions >= 10 && compared >= 30, evictions + " evictions, " + compared + " steps compared");
        }
    }

    @Test
    void modelOptionsTurnOnSinkGenerationPastTheContext() {
        try (FloeModel m = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0,
                Map.of("attention.sink", "4", "attention.window", "128")), l -> { })) {
            int n = m.config().maxPositions() + 200;
            GenerationResult r = m.generate(GenerationRequest.of("class Stack:", n).withIgnoreEos(true));
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(n, r.tokens().length);
        }
    }

    @Test
    void badWindowsAreRejected() {
        assertThrows(InvalidRequestException.class, () -> model.newSinkSession(new SinkWindow(4, 8)));
        assertThrows(InvalidRequestException.class, () -> model.newSinkSession(new SinkWindow(4, 4096)));
        assertThrows(InvalidRequestException.class, () -> FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0,
                Map.of("attention.sink", "4")), l -> { }));
    }

    private static float[][] append(float[][] a, float[][] b) {
        float[][] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
