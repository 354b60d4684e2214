package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;
import dev.floe.api.TensorData;
import dev.floe.backend.cuda.CudaBackendHostTest.Launched;
import dev.floe.backend.cuda.CudaBackendHostTest.RecordingDevice;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.MoeTrace;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.floe.backend.cuda.CudaBackendHostTest.matchesPtx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPI 2 on the CUDA host side, against the recording device: the step's metadata goes to the device in one copy and
 * every layer's kernels point into it; the fused MoE issues its exact launch sequence (entries, grids, every
 * argument's value) with no synchronisation or download unless a trace asks. None of the arithmetic runs here.
 */
class CudaSpi2HostTest extends RecordingFixture {
    static final int HIDDEN = 64, WIDTH = 32, EXPERTS = 4;

    Weight weight(String name, DType dtype, long rows, long cols) {
        return cuda.weight(new TensorData(name, dtype, new long[]{rows, cols}, arena.allocate(rows * cols * dtype.bytes(), 16), null));
    }

    /** An expert bank counting the experts it is asked for. */
    final class Bank implements ExpertBank {
        final ExpertBank.Weights[] experts;
        final List<Integer> asked = new ArrayList<>();

        Bank(DType w13, DType w2) {
            experts = new ExpertBank.Weights[EXPERTS];
            for (int x = 0; x < EXPERTS; x++) {
                experts[x] = new ExpertBank.Weights(weight("e" + x + ".w1", w13, WIDTH, HIDDEN),
                        weight("e" + x + ".w2", x == 3 && w2 != w13 ? w2 : w13, HIDDEN, WIDTH), weight("e" + x + ".w3", w13, WIDTH, HIDDEN));
            }
        }

        @Override
        public int layer() {
            return 7;
        }

        @Override
        public int experts() {
            return EXPERTS;
        }

        @Override
        public ExpertBank.Weights expert(int index) {
            asked.add(index);
            return experts[index];
        }
    }

    static long address(Buffer b) {
        return ((CudaBuffer) b).address();
    }

    static long address(Weight w) {
        return ((CudaWeight) w).data();
    }

    List<Launched> since(int from) {
        return device.launches.subList(from, device.launches.size());
    }

    static List<Number> args(Launched l) {
        return l.args().values();
    }

    /** The int pairs of a staged pointer table or double array, as 64-bit values. */
    static long[] longs(int[] pairs) {
        long[] out = new long[pairs.length / 2];
        for (int i = 0; i < out.length; i++) out[i] = (pairs[2 * i] & 0xffffffffL) | ((long) pairs[2 * i + 1] << 32);
        return out;
    }

    @Test
    void declaresTheSpi2Capabilities() {
        assertTrue(cuda.capabilities().containsAll(List.of(Capability.STEP_METADATA, Capability.FUSED_MOE,
                Capability.DISPATCH_COUNTER, Capability.PLANS)));
        CudaBackend off = new CudaBackend(new RecordingDevice(), false, CudaBackend.graphsRequested("false"));
        assertTrue(!off.capabilities().contains(Capability.PLANS), "cuda.graphs=false: the runtime interprets plans");
        assertTrue(off.device().contains("cuda.graphs=false"), off.device());
        assertThrows(UnsupportedOperationException.class, () -> off.compile(new dev.floe.spi.Plan(List.of())));
        off.close();
        assertTrue(CudaBackend.graphsRequested(null) && CudaBackend.graphsRequested("true"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaBackend.graphsRequested("off")).getMessage()
                .contains("cuda.graphs=off"));
    }

    @Test
    void stepMetadataIsCopiedOnceAndEveryLayerPointsIntoIt() {
        StepMetadata m = StepMetadata.of(new int[]{4, 0, 9}, new int[]{5, 6, 0}, new int[]{0, 0, 1},
                new int[][]{{2, 1}, {3}}, 4, 8, 64, 10000f, false);
        long uploads = device.uploads;
        int staged = device.stagedAt.size();
        Step step = cuda.step(m);
        assertEquals(staged, device.stagedAt.size(), "nothing copied before a kernel needs the step");
        ((CudaStep) step).tokens();
        assertEquals(staged + 1, device.stagedAt.size(), "one host-to-device copy per step");
        assertEquals(uploads, device.uploads, "and no other");
        long base = device.stagedAt.getLast();
        int[] packed = device.stagedInts.getLast();
        int n = 3, half = 32;
        assertArrayEquals(new int[]{4, 0, 9, 5, 6, 0, 0, 0, 1, 5, 6, 12}, Arrays.copyOf(packed, 4 * n), "tokens, positions, sequence, slots");
        for (int i = 0; i < n * half; i++) {
            assertEquals(m.ropeCos()[i], Float.intBitsToFloat(packed[4 * n + i]));
            assertEquals(m.ropeSin()[i], Float.intBitsToFloat(packed[4 * n + n * half + i]));
        }
        assertArrayEquals(new int[]{2, 1, 3, -1}, Arrays.copyOfRange(packed, 4 * n + 2 * n * half, packed.length));

        Weight table = weight("emb", DType.BF16, 10, 512);
        KvLayout layout = new KvLayout(2, 2, 64, 8, 4);
        KvCache cache = cuda.kvCache(layout);
        Buffer x = cuda.allocate(3 * 512), q = cuda.allocate(3 * 512), k = cuda.allocate(3 * 128), v = cuda.allocate(3 * 128),
                o = cuda.allocate(3 * 512);
        int from = device.launches.size();
        long dispatches = cuda.dispatches();
        uploads = device.uploads;
        cuda.embed(table, step, x);
        for (int layer = 0; layer < 2; layer++) {
            cuda.rope(q, 8, step);
            cuda.rope(k, 2, step);
            cuda.storeKv(cache, layer, k, v, step);
            cuda.attention(q, cache, layer, step, o);
        }
        assertEquals(staged + 1, device.stagedAt.size(), "the layers stage nothing more");
        assertEquals(uploads, device.uploads, "and upload nothing");
        List<Launched> l = since(from);
        assertEquals(List.of("embed_bf16", "rope_table", "rope_table", "store_kv", "paged_attention", "rope_table",
                "rope_table", "store_kv", "paged_attention"), l.stream().map(Launched::entry).toList());
        assertEquals(l.size(), cuda.dispatches() - dispatches, "every launch counted");
        l.forEach(CudaBackendHostTest::matchesPtx);

        long cos = base + 4L * 4 * n, sin = cos + 4L * n * half, tables = sin + 4L * n * half;
        assertEquals(List.of(address(table), 0L, 0, base, 512, address(x)), args(l.get(0)));
        assertEquals(new Launch(3, 2, 1, 256), l.get(0).launch());
        assertEquals(List.of(address(q), 3, 8, 64, cos, sin), args(l.get(1)));
        assertEquals(Launch.elements(3 * 8 * 32), l.get(1).launch());
        assertEquals(List.of(address(k), 3, 2, 64, cos, sin), args(l.get(2)));
        assertEquals(Launch.elements(3 * 2 * 32), l.get(2).launch());
        CudaKvCache c = (CudaKvCache) cache;
        assertEquals(List.of(c.keys(1), c.values(1), address(k), address(v), 3, 128, base + 4L * 3 * n), args(l.get(7)));
        List<Number> att = args(l.get(8));
        assertEquals(List.of(address(q), c.keys(1), c.values(1), base + 4L * n, base + 8L * n, tables, 2, 4, 8, 2, 64,
                (float) (1 / Math.sqrt(64)), 7), att.subList(0, 13));
        assertEquals(new Launch(3, 8, 1, 128), l.get(8).launch());

        long inUse = cuda.memoryInUse();
        step.close();
        step.close();
        assertTrue(cuda.memoryInUse() < inUse, "closing the step frees its block");
        assertThrows(IllegalStateException.class, () -> cuda.rope(q, 8, step));
    }

    /** The fused MoE with device routing for a known call: five launches, exact arguments, nothing read back. */
    @Test
    void moeRoutesOnTheDeviceWithoutReadingBack() {
        Bank bank = new Bank(DType.BF16, DType.BF16);
        Weight gate = weight("gate", DType.F32, EXPERTS, HIDDEN);
        Buffer in = cuda.allocate(3 * HIDDEN), dst = cuda.allocate(3 * HIDDEN);
        int from = device.launches.size(), syncs = device.syncs, downloads = device.downloads, staged = device.stagedAt.size();
        long dispatches = cuda.dispatches();
        cuda.moe(new MoeCall(in, 3, gate, bank, new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null));
        assertEquals(syncs, device.syncs, "no synchronisation");
        assertEquals(downloads, device.downloads, "no device-to-host copy");
        assertEquals(List.of(0, 1, 2, 3), bank.asked, "device routing needs every expert in the table");

        List<Launched> l = since(from);
        assertEquals(List.of("matvec_f32", "moe_route", "moe_up_bf16", "moe_down_bf16", "moe_combine"),
                l.stream().map(Launched::entry).toList());
        assertEquals(5, cuda.dispatches() - dispatches);
        l.forEach(CudaBackendHostTest::matchesPtx);
        assertEquals(staged + 1, device.stagedAt.size(), "only the pointer table is copied");
        long table = device.stagedAt.getLast(), e = 8L * EXPERTS;
        long[] t = longs(device.stagedInts.getLast());
        for (int x = 0; x < EXPERTS; x++) {
            ExpertBank.Weights w = bank.experts[x];
            assertEquals(address(w.w1()), t[x]);
            assertEquals(0L, t[EXPERTS + x], "no scale");
            assertEquals(address(w.w3()), t[2 * EXPERTS + x]);
            assertEquals(address(w.w2()), t[4 * EXPERTS + x]);
        }

        List<Number> gateArgs = args(l.get(0));
        long logits = (Long) gateArgs.get(5);
        assertEquals(List.of(address(in), 3, address(gate), 0L, 0, logits, EXPERTS, HIDDEN), gateArgs);
        List<Number> route = args(l.get(1));
        long ids = (Long) route.get(6), weights = (Long) route.get(7);
        assertEquals(List.of(logits, 3, EXPERTS, 2, CudaMoe.SOFTMAX_RENORM, 0L, ids, weights), route);
        assertEquals(new Launch(1, 1, 1, 128), l.get(1).launch());
        List<Number> up = args(l.get(2));
        long h = (Long) up.get(9);
        assertEquals(List.of(address(in), 3, 2, ids, table, table + e, table + 2 * e, table + 3 * e, 0, h, WIDTH, HIDDEN), up);
        assertEquals(new Launch(WIDTH / 4, 6, 1, 128), l.get(2).launch(), "a warp per intermediate row, a column per (row, choice)");
        List<Number> down = args(l.get(3));
        long y = (Long) down.get(7);
        assertEquals(List.of(h, 3, 2, ids, table + 4 * e, table + 5 * e, 0, y, HIDDEN, WIDTH), down);
        assertEquals(new Launch(HIDDEN / 4, 6, 1, 128), l.get(3).launch());
        assertEquals(List.of(y, 3, 2, ids, weights, HIDDEN, address(dst)), args(l.get(4)));
        assertEquals(Launch.elements(3 * HIDDEN), l.get(4).launch());
        assertTrue(ids != weights && h != y && logits != ids, "distinct scratch blocks");

        cuda.moe(new MoeCall(in, 3, gate, bank, new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, false)), dst, null));
        assertEquals(CudaMoe.SOFTMAX, args(device.launches.get(device.launches.size() - 4)).get(4));
    }

    @Test
    void sigmoidRoutingCopiesItsBiasAsDoubles() {
        Bank bank = new Bank(DType.F8_E4M3, DType.F8_E4M3);
        Weight gate = weight("gate", DType.F32, EXPERTS, HIDDEN);
        Buffer in = cuda.allocate(HIDDEN), dst = cuda.allocate(HIDDEN);
        double[] bias = {0.5, -0.25, 1e-9, 3};
        int from = device.launches.size(), staged = device.stagedAt.size();
        cuda.moe(new MoeCall(in, 1, gate, bank, new MoeRouting.OnDevice(new RoutingSpec.SigmoidTopK(3, bias)), dst, null));
        assertEquals(staged + 2, device.stagedAt.size(), "the pointer table and the bias");
        long biasAt = device.stagedAt.getLast();
        long[] bits = longs(device.stagedInts.getLast());
        for (int x = 0; x < EXPERTS; x++) assertEquals(bias[x], Double.longBitsToDouble(bits[x]));
        List<Launched> l = since(from);
        List<Number> route = args(l.get(1));
        assertEquals(List.of(1, EXPERTS, 3, CudaMoe.SIGMOID, biasAt), route.subList(1, 6));
        assertEquals("moe_up_e4m3", l.get(2).entry());
        assertEquals(new Launch(WIDTH / 4, 3, 1, 128), l.get(2).launch());
        assertEquals("moe_down_e4m3", l.get(3).entry());
    }

    @Test
    void aTraceIsTheOnlyReasonToReadBack() {
        Bank bank = new Bank(DType.F16, DType.F16);
        Weight gate = weight("gate", DType.F32, EXPERTS, HIDDEN);
        Buffer in = cuda.allocate(2 * HIDDEN), dst = cuda.allocate(2 * HIDDEN);
        MoeTrace trace = new MoeTrace();
        int downloads = device.downloads;
        cuda.moe(new MoeCall(in, 2, gate, bank, new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, trace));
        assertEquals(downloads + 3, device.downloads, "logits, ids and weights");
        assertNotNull(trace.decision());
        assertEquals(2, trace.decision().tokens());
        assertEquals(EXPERTS, trace.logits()[1].length);
    }

    /** A host router's decision: only the chosen experts are placed; a shorter row is padded with -1. */
    @Test
    void aHostDecisionIsStagedAndSkipsRouting() {
        Bank bank = new Bank(DType.F32, DType.F32);
        Buffer in = cuda.allocate(2 * HIDDEN), dst = cuda.allocate(2 * HIDDEN);
        RoutingDecision decision = new RoutingDecision(new int[][]{{2, 0}, {2}}, new float[][]{{0.75f, 0.25f}, {1f}});
        int from = device.launches.size(), syncs = device.syncs, downloads = device.downloads;
        cuda.moe(new MoeCall(in, 2, null, bank, new MoeRouting.Decided(decision), dst, new MoeTrace()));
        assertEquals(List.of(2, 0), bank.asked);
        assertEquals(syncs, device.syncs);
        assertEquals(downloads, device.downloads);
        List<Launched> l = since(from);
        assertEquals(List.of("moe_up_f32", "moe_down_f32", "moe_combine"), l.stream().map(Launched::entry).toList());
        l.forEach(CudaBackendHostTest::matchesPtx);
        assertArrayEquals(new int[]{2, 0, 2, -1}, device.stagedInts.getLast());
        assertArrayEquals(new float[]{0.75f, 0.25f, 1f, 0f}, device.stagedFloats.getLast());
        long[] t = longs(device.stagedInts.get(device.stagedInts.size() - 2));
        assertEquals(0L, t[1], "expert 1 was not chosen: no pointer");
        assertEquals(address(bank.experts[2].w2()), t[4 * EXPERTS + 2]);
        assertEquals(List.of(2, 2), args(l.get(2)).subList(1, 3));

        RoutingDecision outside = new RoutingDecision(new int[][]{{4}}, new float[][]{{1f}});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.moe(new MoeCall(in, 1, null, bank,
                new MoeRouting.Decided(outside), dst, null))).getMessage().contains("row 0 goes to expert 4, outside [0, 4)"));
    }

    @Test
    void badCallsAreRefusedWithTheirReason() {
        Buffer in = cuda.allocate(HIDDEN), dst = cuda.allocate(HIDDEN);
        Weight gate = weight("gate", DType.F32, EXPERTS, HIDDEN);
        Bank mixed = new Bank(DType.BF16, DType.F16);
        String msg = assertThrows(IllegalArgumentException.class, () -> cuda.moe(new MoeCall(in, 1, gate, mixed,
                new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null))).getMessage();
        assertTrue(msg.contains("expert 3 of layer 7") && msg.contains("differ in dtype"), msg);
        Weight narrow = weight("gate.narrow", DType.F32, EXPERTS - 1, HIDDEN);
        Bank bank = new Bank(DType.BF16, DType.BF16);
        msg = assertThrows(IllegalArgumentException.class, () -> cuda.moe(new MoeCall(in, 1, narrow, bank,
                new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null))).getMessage();
        assertTrue(msg.contains("gate: gate.narrow is 3x64"), msg);
        Buffer small = cuda.allocate(HIDDEN - 1);
        msg = assertThrows(IllegalArgumentException.class, () -> cuda.moe(new MoeCall(small, 1, gate, bank,
                new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null))).getMessage();
        assertTrue(msg.contains("input"), msg);
        CudaBackend other = new CudaBackend(new RecordingDevice(), false);
        Step foreign = other.step(StepMetadata.of(new int[]{1}, new int[]{0}, new int[]{0}, new int[][]{{0}}, 4, 2, 8, 1e4f, false));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.rope(in, 2, foreign)).getMessage()
                .contains("step is not a step of this CUDA backend"));
        foreign.close();
        other.close();
    }
}
