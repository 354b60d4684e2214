package dev.floe.runtime.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.FinishReason;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import dev.floe.api.TokenSink;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.kv.SequenceKv;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.ForwardBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serving engine on the built-in model: batched passes, equality with {@code Model.generate}, cancellation, limits. */
class ServingEngineTest {
    static final Path BUILT_IN = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
    static FloeModel model;
    static List<String> prompts = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        JsonNode golden = new ObjectMapper().readTree(BUILT_IN.resolve("golden.json").toFile());
        for (JsonNode p : golden.path("prompts")) prompts.add(p.get("text").asText());
        assertTrue(prompts.size() >= 2, "golden.json has prompts");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void aBatchOfSequencesGivesTheLogitsOfEachAlone() {
        List<int[]> ids = prompts.stream().map(p -> model.tokenizer().encode(p, true)).toList();
        List<float[]> alone = new ArrayList<>();
        for (int[] p : ids) {
            try (SequenceKv kv = model.newSequenceKv()) {
                kv.ensureCapacity(p.length);
                alone.add(model.forward(ForwardBatch.single(p, 0, kv.table(), new int[]{p.length - 1}), null)[0]);
            }
        }
        List<SequenceKv> kvs = new ArrayList<>();
        try {
            int rows = ids.stream().mapToInt(p -> p.length).sum();
            int[] tokens = new int[rows], positions = new int[rows], sequence = new int[rows], logitRows = new int[ids.size()];
            int[][] tables = new int[ids.size()][];
            int row = 0;
            for (int s = 0; s < ids.size(); s++) {
                SequenceKv kv = model.newSequenceKv();
                kvs.add(kv);
                kv.ensureCapacity(ids.get(s).length);
                tables[s] = kv.table();
                for (int i = 0; i < ids.get(s).length; i++, row++) {
                    tokens[row] = ids.get(s)[i];
                    positions[row] = i;
                    sequence[row] = s;
                }
                logitRows[s] = row - 1;
            }
            float[][] batched = model.forward(new ForwardBatch(tokens, positions, sequence, tables, logitRows), null);
            for (int s = 0; s < ids.size(); s++) {
                for (int v = 0; v < batched[s].length; v++) {
                    assertEquals(alone.get(s)[v], batched[s][v], 1e-4f + 1e-5f * Math.abs(alone.get(s)[v]), "sequence " + s + " logit " + v);
                }
            }
        } finally {
            kvs.forEach(SequenceKv::close);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void passCountersSeeEveryPromptRowAndEveryDecodeRow(String scheduler) throws Exception {
        int steps = 6;
        int promptRows = prompts.stream().mapToInt(p -> model.tokenizer().encode(p, true).length).sum();
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create(scheduler), new ServingConfig(64, 3, 8, false))) {
            List<RequestHandle> handles = new ArrayList<>();
            for (String p : prompts) handles.add(engine.submit(GenerationRequest.of(p, steps).withIgnoreEos(true), t -> { }));
            for (RequestHandle h : handles) assertEquals(steps, h.result().get(60, TimeUnit.SECONDS).tokens().length);
            PassCounters.Snapshot passes = engine.metrics().passes().snapshot();
            // a request's first token comes from its last prompt row; each later one needs the one before fed back
            assertEquals((long) prompts.size() * (steps - 1), passes.decodeRows(), scheduler + ": decode rows");
            assertEquals(promptRows, passes.promptRows(), scheduler + ": prompt rows, in chunks of at most 8");
            long[] byRows = passes.passesByRows();
            long counted = 0, rows = 0;
            for (int r = 0; r < byRows.length; r++) {
                if (r > 8) assertEquals(0, byRows[r], "a pass of " + r + " rows, beyond the token budget of 8");
                counted += byRows[r];
                rows += r * byRows[r];
            }
            assertEquals(passes.passes(), counted, "every pass in the histogram");
            assertEquals(passes.decodeRows() + passes.promptRows(), rows, "the histogram holds every row");
            assertEquals(rows, passes.rows());
            assertTrue(passes.passes() >= (rows + 7) / 8, scheduler + ": " + passes.passes() + " passes for " + rows + " rows");
            assertEquals(2.0, new PassCounters.Snapshot(1, 1, 1, 1, 0, byRows(1), byRows(1)).expectedExpertsPerPass(16, 2), 1e-9,
                    "one row touches its top-2");
            assertEquals(16 * (1 - Math.pow(14.0 / 16, 16)), new PassCounters.Snapshot(1, 16, 16, 16, 0, byRows(16), byRows(16))
                    .expectedExpertsPerPass(16, 2), 1e-9, "sixteen rows touch about 14 of 16 experts");
        }
    }

    private static long[] byRows(int rows) {
        long[] counts = new long[PassCounters.ROWS_TRACKED + 1];
        counts[rows] = 1;
        return counts;
    }

    @ParameterizedTest
    @ValueSource(strings = {"static", "continuous", "splitfuse"})
    void greedyOutputsEqualModelGenerate(String scheduler) throws Exception {
        int steps = 24;
        List<GenerationResult> expected = prompts.stream()
                .map(p -> model.generate(GenerationRequest.of(p, steps).withIgnoreEos(true))).toList();
        // a small budget so that splitfuse splits the prompts and passes mix prefill and decode rows
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create(scheduler), new ServingConfig(64, 3, 8))) {
            List<RequestHandle> handles = new ArrayList<>();
            List<StringBuilder> streamed = new ArrayList<>();
            for (String p : prompts) {
                StringBuilder sb = new StringBuilder();
                streamed.add(sb);
                handles.add(engine.submit(GenerationRequest.of(p, steps).withIgnoreEos(true), t -> sb.append(t.text())));
            }
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult r = handles.get(i).result().get(60, TimeUnit.SECONDS);
                assertArrayEquals(expected.get(i).tokens(), r.tokens(), scheduler + ": prompt " + i);
                assertEquals(expected.get(i).text(), r.text());
                assertEquals(r.text(), streamed.get(i).toString(), "the stream carries the result text");
                assertEquals(FinishReason.LENGTH, r.finishReason());
            }
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed(), "every block returns to the pool");
            assertTrue(engine.metrics().timeToFirstToken().snapshot().count() >= prompts.size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"continuous", "splitfuse"})
    void preemptionByRecomputationKeepsOutputs(String scheduler) throws Exception {
        int steps = 40;
        // a pool of 12 blocks of 16: enough for one request alone, too few for all at once
        try (FloeModel small = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0, Map.of("kv.blocks", "8")), l -> { })) {
            List<GenerationResult> expected = prompts.stream()
                    .map(p -> small.generate(GenerationRequest.of(p, steps).withIgnoreEos(true))).toList();
            try (ServingEngine engine = new ServingEngine(small, Schedulers.create(scheduler), new ServingConfig(64, 8, 64))) {
                List<RequestHandle> handles = new ArrayList<>();
                for (String p : prompts) handles.add(engine.submit(GenerationRequest.of(p, steps).withIgnoreEos(true), t -> { }));
                for (int i = 0; i < prompts.size(); i++) {
                    assertArrayEquals(expected.get(i).tokens(), handles.get(i).result().get(120, TimeUnit.SECONDS).tokens(), scheduler + ": prompt " + i);
                }
                assertTrue(engine.metrics().preemptions() > 0, "the small pool forced preemption");
                waitFor(() -> engine.kvBlocksUsed() == 0);
                assertEquals(0, engine.kvBlocksUsed());
            }
        }
    }

    /** {@code Model.generate} is one request through the engine, driven on the caller's thread. */
    @Test
    void generateRunsTheEngineOnTheCallingThreadAndRethrowsASinkFailure() {
        Thread caller = Thread.currentThread();
        List<Thread> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        GenerationResult r = model.generate(GenerationRequest.of(prompts.getFirst(), 5).withIgnoreEos(true), t -> seen.add(Thread.currentThread()));
        assertEquals(5, r.tokens().length);
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertTrue(seen.stream().allMatch(t -> t == caller), "the sink is called on the caller's thread");
        IllegalStateException boom = new IllegalStateException("sink broke");
        assertEquals(boom, assertThrows(IllegalStateException.class, () -> model.generate(
                GenerationRequest.of(prompts.getFirst(), 50).withIgnoreEos(true), t -> { throw boom; })));
        assertEquals(0, model.kvBlocks().usedBlocks(), "no blocks are left behind");
    }

    /** The issue: requeued preempted requests pushed the queue past --max-queue, so new clients got 429 during a thrash. */
    @Test
    void preemptedRequestsDoNotCountAgainstTheQueueLimit() throws Exception {
        try (FloeModel small = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0, Map.of("kv.blocks", "8")), l -> { });
             ServingEngine engine = new ServingEngine(small, Schedulers.create("continuous"), new ServingConfig(1, 8, 64))) {
            List<RequestHandle> handles = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Throwable> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean triedDuringThrash = new java.util.concurrent.atomic.AtomicBoolean();
            // runs on the engine thread between steps, so the state it sees is the state submit sees
            TokenSink probe = t -> {
                if (engine.metrics().preemptions() > 0 && engine.queueLength() > 0 && !triedDuringThrash.getAndSet(true)) {
                    try {
                        handles.add(engine.submit(GenerationRequest.of(prompts.getFirst(), 4), x -> { }));
                    } catch (QueueFullException e) {
                        refused.add(e);
                    }
                }
            };
            for (int i = 0; i < 3; i++) {
                // each starts (its first token) before the next is submitted: the queue of one holds only fresh requests
                CountDownLatch started = new CountDownLatch(1);
                handles.add(engine.submit(GenerationRequest.of(prompts.get(i % prompts.size()), 40).withIgnoreEos(true), t -> {
                    started.countDown();
                    probe.onToken(t);
                }));
                assertTrue(started.await(60, TimeUnit.SECONDS));
            }
            waitFor(triedDuringThrash::get);
            assertTrue(triedDuringThrash.get(), "a request was preempted and waited while another was submitted");
            assertEquals(List.of(), refused, "the preempted request did not fill the queue of one");
            for (RequestHandle h : handles) h.result().get(120, TimeUnit.SECONDS);
            assertEquals(4, handles.size());
        }
    }

    @Test
    void cancellingFreesTheBlocks() throws Exception {
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS)) {
            CountDownLatch started = new CountDownLatch(3);
            RequestHandle handle = engine.submit(GenerationRequest.of(prompts.getFirst(), 500).withIgnoreEos(true), t -> started.countDown());
            assertTrue(started.await(30, TimeUnit.SECONDS));
            assertTrue(engine.kvBlocksUsed() > 0);
            handle.cancel();
            GenerationResult r = handle.result().get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, r.finishReason());
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed());
            // a sink that reports cancellation itself
            RequestHandle second = engine.submit(GenerationRequest.of(prompts.getFirst(), 500).withIgnoreEos(true), new TokenSink() {
                int seen;

                @Override
                public void onToken(dev.floe.api.GeneratedToken token) {
                    seen++;
                }

                @Override
                public boolean cancelled() {
                    return seen >= 2;
                }
            });
            GenerationResult r2 = second.result().get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, r2.finishReason());
            assertEquals(2, r2.tokens().length);
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed());
        }
    }

    @Test
    void aFullQueueRejectsAndTheEngineRecovers() throws Exception {
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create("continuous"), new ServingConfig(2, 1, 64))) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blocked = new CountDownLatch(1);
            // the first request's sink holds the engine thread, so the next ones stay queued
            RequestHandle first = engine.submit(GenerationRequest.of(prompts.getFirst(), 2), t -> {
                blocked.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(blocked.await(30, TimeUnit.SECONDS));
            RequestHandle a = engine.submit(GenerationRequest.of(prompts.getFirst(), 2), t -> { });
            RequestHandle b = engine.submit(GenerationRequest.of(prompts.getFirst(), 2), t -> { });
            assertThrows(QueueFullException.class, () -> engine.submit(GenerationRequest.of(prompts.getFirst(), 2), t -> { }));
            assertEquals(1, engine.metrics().rejected());
            release.countDown();
            for (RequestHandle h : List.of(first, a, b)) assertEquals(2, h.result().get(30, TimeUnit.SECONDS).tokens().length + 0 * h.result().get().tokens().length, "finished");
        }
    }

    @Test
    void unservableRequestsAreRejectedAtSubmit() {
        try (ServingEngine engine = new ServingEngine(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS)) {
            assertThrows(InvalidRequestException.class, () -> engine.submit(GenerationRequest.ofIds(new int[]{1, 99999}, 4), t -> { }));
            assertThrows(InvalidRequestException.class, () -> engine.submit(GenerationRequest.ofIds(new int[2000], 4), t -> { }));
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> Schedulers.create("fifo"));
            assertTrue(e.getMessage().contains("splitfuse"), e.getMessage());
        }
    }

    @Test
    void aBrokenSchedulerFailsItsRequestsButNotTheEngine() throws Exception {
        dev.floe.api.Scheduler broken = new dev.floe.api.Scheduler() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public dev.floe.api.StepPlan plan(dev.floe.api.SchedulerState state) {
                // plans more tokens than the sequence has pending
                return new dev.floe.api.StepPlan(state.waiting().stream()
                        .map(v -> new dev.floe.api.StepPlan.Chunk(v.id(), v.pendingTokens() + 5)).toList(), List.of());
            }
        };
        try (ServingEngine engine = new ServingEngine(model, broken, ServingConfig.DEFAULTS)) {
            RequestHandle h = engine.submit(GenerationRequest.of(prompts.getFirst(), 4), t -> { });
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> h.result().get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("broken"), e.getCause().getMessage());
            assertEquals(1, engine.metrics().failed());
            waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"splitfuse", "static"})
    void aSinkWindowServesPastTheContextAndMatchesModelGenerate(String scheduler) throws Exception {
        try (FloeModel m = FloeEngine.load(BUILT_IN, new ModelOptions("cpu-vector", null, null, 0,
                Map.of("attention.sink", "4", "attention.window", "128")), l -> { })) {
            int n = m.config().maxPositions() + 300;
            GenerationRequest request = GenerationRequest.of("class Stack:", n).withIgnoreEos(true);
            GenerationResult expected = m.generate(request);
            int used = m.kvBlocks().usedBlocks();
            int[] longPrompt = new int[m.config().maxPositions() + 40];
            for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = 3 + i * 7 % 4000;
            try (ServingEngine engine = new ServingEngine(m, Schedulers.create(scheduler), ServingConfig.DEFAULTS)) {
                RequestHandle a = engine.submit(request, t -> { });
                RequestHandle b = engine.submit(GenerationRequest.ofIds(longPrompt, 8).withIgnoreEos(true), t -> { });
                GenerationResult got = a.result().get(120, TimeUnit.SECONDS);
                assertEquals(FinishReason.LENGTH, got.finishReason());
                assertEquals(n, got.tokens().length, "generation runs past the context of " + m.config().maxPositions());
                // rows do not mix within a pass, and the BF16 kernels accumulate a row alike whatever its neighbours
                // (here a prompt longer than the context, fed in window-sized chunks): the same tokens as generate()
                assertArrayEquals(expected.tokens(), got.tokens());
                assertEquals(8, b.result().get(120, TimeUnit.SECONDS).tokens().length);
            }
            assertEquals(used, m.kvBlocks().usedBlocks(), "every block back in the pool");
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < end) Thread.sleep(5);
    }
}
