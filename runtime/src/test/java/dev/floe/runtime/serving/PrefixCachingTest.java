package dev.floe.runtime.serving;

import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.kv.KvBlockManager;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.floe.runtime.serving.ServingEngineTest.BUILT_IN;
import static dev.floe.runtime.serving.ServingEngineTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests sharing a prompt prefix share its KV blocks, and nothing they generate changes. */
class PrefixCachingTest {
    static final String SYSTEM = "You are a careful Python assistant. Answer with code only, no prose. Use type hints. "
            + "Prefer the standard library. Keep functions short and name them well. ";
    static final List<String> QUESTIONS = List.of("def add(a, b):", "class Stack:", "import os\n", "def main():", "for i in range(10):");
    static FloeModel model;

    @BeforeAll
    static void load() {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static List<GenerationRequest> requests(int steps) {
        return QUESTIONS.stream().map(q -> GenerationRequest.of(SYSTEM + q, steps).withIgnoreEos(true)).toList();
    }

    static List<int[]> serve(FloeModel m, String scheduler, ServingConfig config, List<GenerationRequest> requests, boolean firstAlone,
                             ServingEngine[] keep) throws Exception {
        try (ServingEngine engine = new ServingEngine(m, Schedulers.create(scheduler), config)) {
            List<int[]> out = new ArrayList<>();
            int start = 0;
            if (firstAlone) {
                out.add(engine.submit(requests.getFirst(), t -> { }).result().get(120, TimeUnit.SECONDS).tokens());
                start = 1;
            }
            List<RequestHandle> handles = new ArrayList<>();
            for (GenerationRequest r : requests.subList(start, requests.size())) handles.add(engine.submit(r, t -> { }));
            for (RequestHandle h : handles) out.add(h.result().get(120, TimeUnit.SECONDS).tokens());
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed(), "every block is back in the pool (cached ones count as free)");
            keep[0] = engine;
            return out;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void sharedPrefixBlocksAreReusedAndOutputsAreUnchanged(String scheduler) throws Exception {
        int steps = 16;
        List<GenerationRequest> requests = requests(steps);
        int prefixTokens = model.tokenizer().encode(SYSTEM, true).length;
        assertTrue(prefixTokens >= 3 * model.kvBlocks().blockSize(), "the shared prefix spans several blocks: " + prefixTokens);
        List<int[]> expected = new ArrayList<>();
        for (GenerationRequest r : requests) expected.add(model.generate(r).tokens());
        ServingEngine[] engine = new ServingEngine[1];
        List<int[]> got = serve(model, scheduler, new ServingConfig(64, 8, 64), requests, true, engine);
        for (int i = 0; i < requests.size(); i++) assertArrayEquals(expected.get(i), got.get(i), scheduler + ": request " + i);
        ServingMetrics m = engine[0].metrics();
        int bs = model.kvBlocks().blockSize();
        // the first request computes the prefix; each later one finds at least its whole blocks
        long minimum = (long) (requests.size() - 1) * (prefixTokens / bs) * bs;
        assertTrue(m.prefixCacheHits() >= minimum, "hits " + m.prefixCacheHits() + " >= " + minimum);
        assertTrue(m.prefixCacheHitRate() > 0.5 && m.prefixCacheHitRate() < 1, "hit rate " + m.prefixCacheHitRate());
        assertTrue(model.kvBlocks().cachedBlocks() > 0);
        ServingEngine[] off = new ServingEngine[1];
        List<int[]> uncached = serve(model, scheduler, new ServingConfig(64, 8, 64).withPrefixCaching(false), requests, true, off);
        for (int i = 0; i < requests.size(); i++) assertArrayEquals(expected.get(i), uncached.get(i));
        assertEquals(0, off[0].metrics().prefixCacheQueries(), "off means off");
    }

    /** A pool too small for all at once: sequences holding shared blocks are preempted and recomputed, cached blocks evicted. */
    @ParameterizedTest
    @ValueSource(strings = {"continuous", "splitfuse"})
    void preemptionAndEvictionKeepOutputs(String scheduler) throws Exception {
        int steps = 40;
        try (FloeModel small = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0, Map.of("kv.blocks", "14")), l -> { })) {
            List<GenerationRequest> requests = new ArrayList<>(requests(steps));
            // distinct long prompts too, so that cached blocks must be evicted to make room
            for (String q : QUESTIONS) requests.add(GenerationRequest.of(q.repeat(8) + SYSTEM, steps).withIgnoreEos(true));
            List<int[]> expected = new ArrayList<>();
            for (GenerationRequest r : requests) expected.add(small.generate(r).tokens());
            ServingEngine[] engine = new ServingEngine[1];
            List<int[]> got = serve(small, scheduler, new ServingConfig(64, 8, 64), requests, false, engine);
            for (int i = 0; i < requests.size(); i++) assertArrayEquals(expected.get(i), got.get(i), scheduler + ": request " + i);
            assertTrue(engine[0].metrics().preemptions() > 0, "the small pool forced preemption");
            assertTrue(engine[0].metrics().prefixCacheHits() > 0, "shared blocks were reused");
            assertTrue(small.kvBlocks().cachedBlocks() <= small.kvBlocks().totalBlocks());
        }
    }

    /** With an attention-sink window, cached blocks are those computed before any eviction; outputs match an engine without caching. */
    @Test
    void aSinkWindowKeepsOutputs() throws Exception {
        try (FloeModel m = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0,
                Map.of("attention.sink", "4", "attention.window", "64")), l -> { })) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (String q : QUESTIONS) requests.add(GenerationRequest.of(SYSTEM + q, 90).withIgnoreEos(true));
            ServingEngine[] a = new ServingEngine[1], b = new ServingEngine[1];
            List<int[]> cached = serve(m, "splitfuse", ServingConfig.DEFAULTS, requests, true, a);
            List<int[]> plain = serve(m, "splitfuse", ServingConfig.DEFAULTS.withPrefixCaching(false), requests, true, b);
            for (int i = 0; i < requests.size(); i++) assertArrayEquals(plain.get(i), cached.get(i), "request " + i);
            for (int i = 0; i < requests.size(); i++) assertArrayEquals(m.generate(requests.get(i)).tokens(), cached.get(i), "request " + i + " against generate");
            assertTrue(a[0].metrics().prefixCacheHits() > 0, "the window's first blocks were shared");
        }
    }

    /** Dynamic NTK rotates keys by the length of their sequence: such a model shares no blocks, and serves as generate does. */
    @Test
    void aDynamicNtkModelSharesNoBlocks() throws Exception {
        java.nio.file.Path dir = BUILT_IN.getParent().getParent().resolve("fixtures/rope-dynamic");
        try (FloeModel m = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            List<GenerationRequest> requests = new ArrayList<>();
            for (int q = 0; q < 3; q++) {
                int[] ids = new int[40 + q]; // a shared 40-token prefix, past the trained 32 positions
                for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i < 40 ? i * 7 : 100 + q) % 500;
                requests.add(GenerationRequest.ofIds(ids, 8).withIgnoreEos(true));
            }
            ServingEngine[] engine = new ServingEngine[1];
            List<int[]> served = serve(m, "continuous", ServingConfig.DEFAULTS, requests, true, engine);
            for (int i = 0; i < requests.size(); i++) assertArrayEquals(m.generate(requests.get(i)).tokens(), served.get(i), "request " + i);
            assertEquals(0, engine[0].metrics().prefixCacheQueries(), "no prefix lookups for a dynamic NTK model");
        }
    }

    @Test
    void blocksAreReferenceCountedAndEvictedLeastRecentlyReleasedFirst() {
        KvBlockManager pool = new KvBlockManager(3, 2);
        int[] tokens = {5, 6, 7, 8};
        int a = pool.allocate(), b = pool.allocate();
        long ha = KvBlockManager.hash(0, tokens, 0, 2), hb = KvBlockManager.hash(ha, tokens, 2, 2);
        pool.register(a, ha, tokens, 0);
        pool.register(b, hb, tokens, 2);
        assertEquals(a, pool.lookup(ha, tokens, 0), "a second holder");
        assertEquals(-1, pool.lookup(ha, new int[]{5, 9}, 0), "the same hash with other tokens is no hit");
        assertEquals(-1, pool.lookup(KvBlockManager.hash(1, tokens, 2, 2), tokens, 2), "a different prefix is no hit");
        pool.free(new int[]{a}, 1);
        assertEquals(2, pool.usedBlocks(), "a is still held once");
        pool.free(new int[]{a, b}, 2);
        assertEquals(0, pool.usedBlocks());
        assertEquals(3, pool.freeBlocks(), "cached blocks nobody holds count as free");
        assertEquals(2, pool.cachedBlocks());
        assertThrows(IllegalStateException.class, () -> pool.free(new int[]{a}, 1), "a free block cannot be released again");
        int c = pool.allocate(); // the never-used block goes first
        assertTrue(c != a && c != b);
        assertEquals(2, pool.cachedBlocks());
        int d = pool.allocate(); // then the least recently released cached block: a
        assertEquals(a, d);
        assertEquals(-1, pool.lookup(ha, tokens, 0), "an evicted block is no longer found");
        assertEquals(b, pool.lookup(hb, tokens, 2), "b stays cached");
        assertThrows(RuntimeException.class, pool::allocate, "everything is held");
    }
}
