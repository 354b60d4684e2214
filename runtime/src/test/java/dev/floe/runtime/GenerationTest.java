package dev.floe.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.FinishReason;
import dev.floe.api.ForwardObserver;
import dev.floe.api.GeneratedToken;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.ModelOptions;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.api.SamplingParams;
import dev.floe.api.Session;
import dev.floe.api.TokenSink;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation loop on the built-in model: greedy text, streaming, stop conditions, sampling, expert stores. */
class GenerationTest {
    static FloeModel model;
    static JsonNode golden;

    @BeforeAll
    static void load() throws IOException {
        model = FloeEngine.load(LoadingErrorsTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        golden = new ObjectMapper().readTree(LoadingErrorsTest.BUILT_IN.resolve("golden.json").toFile());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyTextOfEveryGoldenPromptMatches() {
        for (JsonNode p : golden.path("prompts")) {
            String prompt = p.get("text").asText();
            int steps = p.get("greedy_ids").size();
            GenerationResult r = model.generate(GenerationRequest.of(prompt, steps).withIgnoreEos(true));
            assertEquals(FinishReason.LENGTH, r.finishReason());
            int[] ids = new int[steps];
            for (int i = 0; i < steps; i++) ids[i] = p.get("greedy_ids").get(i).asInt();
            assertArrayEquals(ids, r.tokens());
            // the golden text decodes the continuation alone; streamed text continues the prompt, so a leading
            // space that decoding strips at the start of a text is kept
            assertEquals(p.get("greedy_text").asText(), model.tokenizer().decode(r.tokens(), true));
            int[] promptIds = model.tokenizer().encode(prompt, true);
            int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(promptIds), java.util.Arrays.stream(ids)).toArray();
            assertEquals(model.tokenizer().decode(all, true), model.tokenizer().decode(promptIds, true) + r.text(), "continuation of " + prompt);
        }
    }

    @Test
    void streamedPiecesConcatenateToTheResult() {
        StringBuilder streamed = new StringBuilder();
        List<Integer> indices = new ArrayList<>();
        GenerationResult r = model.generate(GenerationRequest.of("import os\n", 24), t -> {
            streamed.append(t.text());
            indices.add(t.index());
        });
        assertEquals(r.text(), streamed.toString());
        assertEquals(0, indices.getFirst());
        assertEquals(r.tokens().length - 1, indices.getLast());
    }

    @Test
    void stopStringEndsGenerationAndIsNotReturned() {
        String prompt = golden.path("prompts").get(0).get("text").asText();
        String full = golden.path("prompts").get(0).get("greedy_text").asText();
        String stop = "function";
        GenerationResult r = model.generate(GenerationRequest.of(prompt, 32).withStop(List.of(stop)));
        assertEquals(FinishReason.STOP, r.finishReason());
        assertTrue(r.text().endsWith(full.substring(0, full.indexOf(stop)).stripLeading()), r.text());
        assertFalse(r.text().contains(stop));
    }

    @Test
    void cancellationStopsBeforeTheNextToken() {
        int[] seen = {0};
        GenerationResult r = model.generate(GenerationRequest.of("def f(x):\n", 50), new TokenSink() {
            @Override
            public void onToken(GeneratedToken token) {
                seen[0]++;
            }

            @Override
            public boolean cancelled() {
                return seen[0] >= 3;
            }
        });
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(3, r.tokens().length);
    }

    @Test
    void samplingIsReproducibleBySeedAndDiffersAcrossSeeds() {
        GenerationRequest base = GenerationRequest.of("class ", 24).withIgnoreEos(true);
        GenerationResult a = model.generate(base.withSampling(new SamplingParams(1.0, 0, 1, 42)));
        GenerationResult b = model.generate(base.withSampling(new SamplingParams(1.0, 0, 1, 42)));
        assertArrayEquals(a.tokens(), b.tokens());
        Set<String> texts = new HashSet<>();
        for (long seed = 1; seed <= 4; seed++) texts.add(model.generate(base.withSampling(new SamplingParams(1.0, 0, 1, seed))).text());
        assertTrue(texts.size() > 1, "different seeds give different samples");
        GenerationResult topK1 = model.generate(base.withSampling(new SamplingParams(1.5, 1, 1, 9)));
        GenerationResult greedy = model.generate(base);
        assertArrayEquals(greedy.tokens(), topK1.tokens(), "top-k 1 is greedy whatever the temperature");
    }

    @Test
    void mappedStoreTouchesOnlyRoutedExperts() {
        try (FloeModel m = FloeEngine.load(LoadingErrorsTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            assertEquals(0, m.expertStore().bytesTouched(), "nothing touched before the first token");
            Set<Long> routed = new HashSet<>();
            try (Session s = m.newSession()) {
                s.observer(new ForwardObserver() {
                    @Override
                    public void onRouting(int layer, RoutingInput input, RoutingDecision d) {
                        for (int[] ex : d.experts()) for (int e : ex) routed.add(((long) layer << 32) | e);
                    }
                });
                s.prefill(new int[]{1, 547, 445});
            }
            long perExpert = 3L * m.config().hiddenSize() * m.config().intermediateSize() * 2;
            assertEquals(routed.size() * perExpert, m.expertStore().bytesTouched());
            int all = m.config().numLayers() * m.config().numExperts();
            assertTrue(routed.size() < all, "a 3-token prompt routes to fewer than all " + all + " experts");
            assertTrue(m.expertStore().bytesMapped() > 0);
            assertEquals(0, m.expertStore().bytesResident());
        }
    }

    @Test
    void memoryStoreHoldsEveryExpert() {
        try (FloeModel m = FloeEngine.load(LoadingErrorsTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector").withExpertStore("memory"), l -> { })) {
            long all = (long) m.config().numLayers() * m.config().numExperts() * 3 * m.config().hiddenSize() * m.config().intermediateSize() * 2;
            assertEquals(all, m.expertStore().bytesResident());
            assertEquals(0, m.expertStore().bytesMapped());
        }
    }

    @Test
    void closingSessionsReturnsKvBlocks() {
        int free = model.kvBlocks().freeBlocks();
        try (Session s = model.newSession()) {
            s.prefill(new int[40]);
            assertEquals(free - 3, model.kvBlocks().freeBlocks(), "40 tokens take 3 blocks of 16");
            s.reset();
            assertEquals(free, model.kvBlocks().freeBlocks());
            s.prefill(new int[]{1});
        }
        assertEquals(free, model.kvBlocks().freeBlocks());
    }

    @Test
    void prefillInChunksEqualsOnePass() {
        int[] ids = new int[300];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i * 37) % 4000;
        float[] whole, stepwise;
        try (Session s = model.newSession()) {
            whole = s.prefillLast(ids);
        }
        try (Session s = model.newSession()) {
            s.prefill(java.util.Arrays.copyOf(ids, 299));
            stepwise = s.next(ids[299]);
        }
        double maxDiff = 0;
        for (int i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i] - stepwise[i]));
        assertTrue(maxDiff < 1e-3, "one pass vs two: " + maxDiff);
        assertNotEquals(0, whole.length);
        assertFalse(Double.isNaN(maxDiff));
    }
}
