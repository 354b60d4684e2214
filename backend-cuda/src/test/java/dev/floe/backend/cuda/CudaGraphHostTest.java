package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.RoutingSpec;
import dev.floe.api.TensorData;
import dev.floe.backend.cuda.CudaBackendHostTest.Launched;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plans compiled into CUDA graphs, against the recording device: what is captured when, what a replay does (stage
 * the metadata, one graph launch, no per-operation launch), that nothing host-synchronous happens inside a capture,
 * that moved experts are copied again before a launch, the fallbacks, and that closing frees every graph and block.
 * No graph is instantiated or launched by a driver here.
 */
class CudaGraphHostTest extends RecordingFixture {
    static final int HIDDEN = 64, HEADS = 2, KV_HEADS = 1, HEAD_DIM = 32, EXPERTS = 4, WIDTH = 32, BLOCK = 4, ROWS = 80;

    Weight weight(String name, long rows, long cols) {
        return cuda.weight(new TensorData(name, DType.BF16, new long[]{rows, cols}, arena.allocate(rows * cols * 2, 16), null));
    }

    /** An expert bank whose experts can be moved (closed and placed anew), as an eviction does. */
    final class Bank implements ExpertBank {
        final ExpertBank.Weights[] experts = new ExpertBank.Weights[EXPERTS];
        Runnable onExpert = () -> { };

        Bank() {
            for (int x = 0; x < EXPERTS; x++) place(x);
        }

        void place(int x) {
            experts[x] = new ExpertBank.Weights(weight("e" + x + ".w1", WIDTH, HIDDEN), weight("e" + x + ".w2", HIDDEN, WIDTH),
                    weight("e" + x + ".w3", WIDTH, HIDDEN));
        }

        /** Two experts trade places: the table changes, nothing is allocated. */
        void swap(int a, int b) {
            ExpertBank.Weights t = experts[a];
            experts[a] = experts[b];
            experts[b] = t;
        }

        void move(int x) {
            experts[x].w1().close();
            experts[x].w2().close();
            experts[x].w3().close();
            place(x);
        }

        @Override public int layer() { return 1; }
        @Override public int experts() { return EXPERTS; }

        @Override
        public ExpertBank.Weights expert(int index) {
            onExpert.run();
            return experts[index];
        }
    }

    /** A decoder layer with attention and two fused MoE blocks, as the runtime records them. */
    final class Model {
        final Bank bank = new Bank(), next = new Bank();
        final Buffer x = cuda.allocate(ROWS * HIDDEN), xn = cuda.allocate(ROWS * HIDDEN), q = cuda.allocate(ROWS * HIDDEN),
                k = cuda.allocate(ROWS * HEAD_DIM), v = cuda.allocate(ROWS * HEAD_DIM), att = cuda.allocate(ROWS * HIDDEN),
                h = cuda.allocate(ROWS * HIDDEN);
        final Weight embed = weight("embed", 16, HIDDEN), norm = weight("norm", 1, HIDDEN), wq = weight("wq", HIDDEN, HIDDEN),
                wk = weight("wk", HEAD_DIM, HIDDEN), wv = weight("wv", HEAD_DIM, HIDDEN), wo = weight("wo", HIDDEN, HIDDEN);
        final Weight gate = cuda.weight(new TensorData("gate", DType.F32, new long[]{EXPERTS, HIDDEN},
                arena.allocate(4L * EXPERTS * HIDDEN, 16), null));
        final KvCache cache = cuda.kvCache(new KvLayout(1, KV_HEADS, HEAD_DIM, 64, BLOCK));
        final Plan plan = new Plan(List.of(new PlanOp.Embed(embed, x), new PlanOp.RmsNorm(x, norm, 1e-5f, HIDDEN, xn),
                new PlanOp.Matmul(xn, wq, q), new PlanOp.Matmul(xn, wk, k), new PlanOp.Matmul(xn, wv, v),
                new PlanOp.Rope(q, HEADS), new PlanOp.Rope(k, KV_HEADS), new PlanOp.StoreKv(cache, 0, k, v),
                new PlanOp.Attention(q, cache, 0, att), new PlanOp.Matmul(att, wo, h), new PlanOp.Add(x, h, HIDDEN, x),
                new PlanOp.RmsNorm(x, norm, 1e-5f, HIDDEN, xn),
                new PlanOp.Moe(xn, gate, bank, new RoutingSpec.SigmoidTopK(2, new double[]{0.5, 0, -1, 2}), x),
                new PlanOp.Moe(x, gate, next, new RoutingSpec.SoftmaxTopK(2, true), h)));
    }

    /** A pass of {@code rows} rows of one sequence at positions {@code first..}, over a table of {@code blocks} blocks. */
    static StepMetadata pass(int rows, int first, int blocks) {
        int[] tokens = new int[rows], positions = new int[rows], table = new int[blocks];
        for (int r = 0; r < rows; r++) {
            tokens[r] = (first + r) % 16;
            positions[r] = first + r;
        }
        for (int b = 0; b < blocks; b++) table[b] = blocks - 1 - b;
        return StepMetadata.of(tokens, positions, new int[rows], new int[][]{table}, BLOCK, HEADS, HEAD_DIM, 1e4f, false);
    }

    void run(CudaGraphPlan compiled, StepMetadata m) {
        try (Step s = cuda.step(m)) {
            compiled.run(s);
        }
    }

    List<String> callsSince(int from) {
        return List.copyOf(device.calls.subList(from, device.calls.size()));
    }

    /** The entries eager interpretation launches for {@code m}. */
    List<String> eagerEntries(Model model, StepMetadata m) {
        int from = device.launches.size();
        try (Step s = cuda.step(m)) {
            model.plan.interpret(cuda, s);
        }
        List<String> entries = device.launches.subList(from, device.launches.size()).stream().map(Launched::entry).toList();
        return List.copyOf(entries);
    }

    @Test
    void aRowCountIsCapturedOnceAndReplaysLaunchOnlyTheGraph() {
        Model model = new Model();
        List<String> eager = eagerEntries(model, pass(3, 0, 2));
        CudaGraphPlan compiled = cuda.compile(model.plan);
        int launches = device.launches.size(), from = device.calls.size();
        long dispatches = cuda.dispatches();
        run(compiled, pass(3, 0, 2));
        List<String> first = callsSince(from);
        assertEquals(1, device.graphs.size(), "one graph captured");
        List<Launched> captured = device.graphs.values().iterator().next();
        assertEquals(eager, captured.stream().map(Launched::entry).toList(), "the graph holds what eager interpretation launches");
        captured.forEach(CudaBackendHostTest::matchesPtx);
        assertEquals(launches, device.launches.size(), "no launch outside the graph");
        assertEquals(1, first.stream().filter("cuStreamBeginCapture"::equals).count());
        assertEquals(List.of("cuStreamEndCapture", "cuGraphInstantiate", "stage", "cuGraphLaunch"),
                first.subList(first.size() - 4, first.size()), "captured, instantiated, metadata staged, launched");

        for (int pos = 3; pos < 6; pos++) {
            from = device.calls.size();
            run(compiled, pass(3, pos, 2));
            List<String> replay = callsSince(from);
            assertEquals(0, replay.stream().filter(c -> c.startsWith("launch:") || c.startsWith("cuStreamBeginCapture")).count(),
                    "a replay neither launches an operation nor captures: " + replay);
            assertEquals(1, replay.stream().filter("cuGraphLaunch"::equals).count());
        }
        assertEquals(1, compiled.captures());
        assertEquals(4, compiled.launches());
        assertEquals(4, cuda.dispatches() - dispatches, "one dispatch per pass");

        run(compiled, pass(1, 6, 2));
        assertEquals(2, compiled.captures(), "a new row count captures again");
        run(compiled, pass(1, 7, 2));
        run(compiled, pass(1, 8, 3));
        assertEquals(3, compiled.captures(), "a table wider than the graph's 2 blocks captures at width 4");
        run(compiled, pass(1, 12, 4));
        assertEquals(3, compiled.captures(), "width 4 again: replayed");
        assertEquals(3, device.graphs.size());
        assertEquals(0, compiled.eager());
        assertNull(compiled.fallback());
    }

    @Test
    void nothingHostSynchronousHappensInsideACapture() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        int from = device.calls.size();
        run(compiled, pass(5, 0, 2));
        run(compiled, pass(2, 5, 2));
        List<String> calls = callsSince(from);
        int captures = 0;
        for (int i = calls.indexOf("cuStreamBeginCapture"); i >= 0; ) {
            int end = calls.subList(i, calls.size()).indexOf("cuStreamEndCapture") + i;
            List<String> inside = calls.subList(i + 1, end);
            assertTrue(!inside.isEmpty() && inside.stream().allMatch(c -> c.startsWith("launch:")),
                    "only kernel launches between BeginCapture and EndCapture: " + inside);
            captures++;
            int next = calls.subList(end, calls.size()).indexOf("cuStreamBeginCapture");
            i = next < 0 ? -1 : next + end;
        }
        assertEquals(2, captures);
    }

    /** Before each launch the pass's metadata goes to the graph's own step block, the one its kernels point at. */
    @Test
    void theMetadataIsStagedIntoTheGraphsBlockBeforeEachLaunch() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(2, 0, 2));
        Launched embed = device.graphs.values().iterator().next().getFirst();
        long stepBlock = (Long) embed.args().values().get(3);
        for (int pos = 2; pos < 8; pos += 2) {
            int from = device.calls.size(), staged = device.stagedAt.size();
            StepMetadata m = pass(2, pos, 2);
            run(compiled, m);
            List<String> calls = callsSince(from);
            int launch = calls.indexOf("cuGraphLaunch");
            assertEquals("stage", calls.get(launch - 1), "metadata staged right before the launch");
            assertEquals(stepBlock, device.stagedAt.getLast(), "into the block the captured kernels read");
            assertArrayEquals(CudaStep.pack(m, 2, 2), device.stagedInts.getLast());
            assertArrayEquals(new int[]{pos % 16, (pos + 1) % 16, pos, pos + 1}, Arrays.copyOf(device.stagedInts.getLast(), 4));
            assertEquals(staged + 1, device.stagedAt.size(), "the graph's step only: the runtime's is never copied");
        }
    }

    /** The attention in a graph reads tables as wide as the graph's key and splits for every key they address. */
    @Test
    void capturedAttentionHoldsForEveryPassOfItsWidth() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(1, 8, 3));
        Launched attention = device.graphs.values().iterator().next().stream()
                .filter(l -> l.entry().equals("paged_attention")).findFirst().orElseThrow();
        List<Number> args = attention.args().values();
        assertEquals(4, args.get(6), "tables padded to the graph's width of 4 blocks");
        assertEquals(4 * BLOCK, args.get(12), "one split covering every key 4 blocks hold, not just positions 0..8");
    }

    @Test
    void aMovedExpertIsCopiedAgainBeforeTheLaunch() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(1, 0, 1));
        run(compiled, pass(1, 1, 1));
        int staged = device.stagedAt.size();
        model.bank.move(2);
        run(compiled, pass(1, 2, 1));
        assertEquals(staged + 2, device.stagedAt.size(), "the moved table, the graph's step");
        long[] table = CudaSpi2HostTest.longs(device.stagedInts.get(device.stagedInts.size() - 2));
        assertEquals(((CudaWeight) model.bank.experts[2].w1()).data(), table[2], "the table points at the new placement");
        assertEquals(1, compiled.captures(), "no new capture: the graph reads the table from the same block");
        assertEquals(3, compiled.launches());
    }

    /**
     * Experts that do not fit the bank at once: placing the second block's experts evicts one the first block's table
     * points at. That pass runs eagerly (where the first block has run by then); later ones still try the graph.
     */
    @Test
    void anExpertEvictedDuringThePassMakesItRunEagerly() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(1, 0, 1));
        int[] asked = {0};
        model.next.onExpert = () -> {
            if (asked[0]++ == 0) model.bank.move(0);
        };
        int launches = device.launches.size();
        run(compiled, pass(1, 1, 1));
        assertEquals(1, compiled.eager());
        assertEquals(1, compiled.launches(), "the first pass's only");
        assertTrue(device.launches.size() > launches, "ran operation by operation");
        assertNull(compiled.fallback(), "only that pass");
    }

    @Test
    void aFailedCaptureFallsBackToEagerWithTheReason() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        device.failNextCapture = true;
        int launches = device.launches.size();
        run(compiled, pass(2, 0, 1));
        assertNotNull(compiled.fallback());
        assertTrue(compiled.fallback().contains("capturing a CUDA graph of 2 rows failed")
                && compiled.fallback().contains("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"), compiled.fallback());
        assertTrue(device.launches.size() > launches, "the pass ran eagerly");
        int from = device.calls.size();
        run(compiled, pass(1, 2, 1));
        assertTrue(!callsSince(from).contains("cuStreamBeginCapture"), "no capture is tried again");
        assertEquals(2, compiled.eager());
        assertTrue(device.graphs.isEmpty());
    }

    /** A host call inside the capture (here: a table that changed between sizing and capture) is refused and ends it. */
    @Test
    void aHostCallInsideTheCaptureIsRefusedAndTheCaptureEnded() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        int[] asked = {0};
        model.bank.onExpert = () -> {
            if (asked[0]++ == EXPERTS) model.bank.swap(1, 2);
        };
        int from = device.calls.size();
        run(compiled, pass(1, 0, 1));
        assertNotNull(compiled.fallback());
        assertTrue(compiled.fallback().contains("a staged copy (cuMemcpyHtoDAsync from the pinned ring) during a CUDA graph capture"),
                compiled.fallback());
        List<String> calls = callsSince(from);
        int begin = calls.indexOf("cuStreamBeginCapture"), end = calls.indexOf("cuStreamEndCapture");
        assertTrue(begin >= 0 && end > begin, "the capture was ended");
        assertTrue(calls.subList(begin + 1, end).stream().allMatch(c -> c.startsWith("launch:")), "nothing but launches inside");
        assertTrue(device.graphs.isEmpty(), "the invalid graph was destroyed");
        assertEquals(1, compiled.eager());
    }

    @Test
    void prefillRowCountsRunEagerly() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(Launch.MATVEC_MAX_ROWS + 1, 0, 17));
        assertEquals(0, compiled.captures());
        assertEquals(1, compiled.eager());
    }

    @Test
    void atMostSixteenGraphsAreKept() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        for (int rows = 1; rows <= CudaGraphPlan.MAX_GRAPHS + 2; rows++) run(compiled, pass(rows, 0, 5));
        assertEquals(CudaGraphPlan.MAX_GRAPHS, compiled.graphs());
        assertEquals(CudaGraphPlan.MAX_GRAPHS, device.graphs.size(), "the least recently used graphs were destroyed");
        assertEquals(CudaGraphPlan.MAX_GRAPHS + 2, compiled.captures());
        run(compiled, pass(CudaGraphPlan.MAX_GRAPHS + 2, 0, 5));
        assertEquals(CudaGraphPlan.MAX_GRAPHS + 2, compiled.captures(), "the newest is still there");
    }

    @Test
    void closingFreesEveryGraphAndBlock() {
        Model model = new Model();
        long before = cuda.memoryInUse();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(3, 0, 1));
        run(compiled, pass(1, 3, 1));
        assertTrue(cuda.memoryInUse() > before, "the graphs hold scratch, tables and step blocks");
        compiled.close();
        compiled.close();
        assertTrue(device.graphs.isEmpty() && device.execs.isEmpty(), "graphs and executables destroyed");
        assertEquals(before, cuda.memoryInUse(), "every block back");
        assertThrows(IllegalStateException.class, () -> run(compiled, pass(1, 4, 2)));

        CudaGraphPlan open = cuda.compile(model.plan);
        run(open, pass(2, 0, 1));
        cuda.close(); // the fixture checks that every block was freed; the plan's graphs go first
        assertTrue(device.graphs.isEmpty() && device.execs.isEmpty());
        open.close();
    }

    /** Bad input is refused by a replay as it is eagerly, naming the value, before anything is launched. */
    @Test
    void aReplayChecksThePassAsEagerExecutionDoes() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(1, 0, 1));
        StepMetadata bad = StepMetadata.of(new int[]{16}, new int[]{1}, new int[1], new int[][]{{0}}, BLOCK, HEADS, HEAD_DIM,
                1e4f, false);
        int from = device.calls.size();
        String msg = assertThrows(IllegalArgumentException.class, () -> run(compiled, bad)).getMessage();
        assertTrue(msg.contains("16"), msg);
        assertTrue(!callsSince(from).contains("cuGraphLaunch"));
        run(compiled, pass(1, 1, 1));
        assertEquals(2, compiled.launches(), "the graph still serves the next pass");
        assertNull(compiled.fallback());
    }

    /** Device routing of a captured MoE: the sigmoid bias and the pointer table stay in the graph's own blocks. */
    @Test
    void stagedArraysOfACaptureLiveInTheGraphsBlocks() {
        Model model = new Model();
        CudaGraphPlan compiled = cuda.compile(model.plan);
        run(compiled, pass(1, 0, 1));
        List<Launched> captured = device.graphs.values().iterator().next();
        Launched route = captured.stream().filter(l -> l.entry().equals("moe_route")).findFirst().orElseThrow();
        long bias = (Long) route.args().values().get(5);
        assertTrue(device.live.containsKey(bias), "the bias block is live");
        List<Long> stagedBlocks = new ArrayList<>(device.stagedAt);
        assertTrue(stagedBlocks.contains(bias), "and was copied in while sizing");
        long inUse = cuda.memoryInUse();
        run(compiled, pass(1, 1, 1));
        assertEquals(inUse, cuda.memoryInUse(), "a replay allocates nothing that outlives it");
    }
}
