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
