package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import jcuda.Pointer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend's host side against a recording device: every kernel method launches an entry the committed PTX
 * declares, with arguments whose types match the entry's {@code .param} list and scalar values that match a known
 * call, on the expected grid; index arrays
 * are staged with the right contents; arguments are validated. Everything but the GPU's arithmetic.
 */
class CudaBackendHostTest extends RecordingFixture {
    record Launched(Kernel kernel, String entry, Launch launch, KernelArgs args) {
    }

    static final class RecordingDevice implements Device {
        final List<Launched> launches = new ArrayList<>();
        final List<int[]> stagedInts = new ArrayList<>();
        final List<float[]> stagedFloats = new ArrayList<>();
        /** The block each staged array went to, in staging order (ints and floats together). */
        final List<Long> stagedAt = new ArrayList<>();
        final Map<Long, Long> live = new HashMap<>();
        long next = 0x7000_0000_0000L, uploads, zeroed;
        int syncs, downloads;
        /**
         * Every call in order, by driver name (cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, stage, launch:entry,
         * cuStreamSynchronize and the graph calls), for checks of what happens between two calls.
         */
        final List<String> calls = new ArrayList<>();
        /** Live graphs and executables by handle; a capture in progress records its launches. */
        final Map<Long, List<Launched>> graphs = new HashMap<>();
        final Map<Long, Long> execs = new HashMap<>();
        List<Launched> capture;
        long handles;
        /** The next endCapture fails as an invalidated capture does. */
        boolean failNextCapture;

        @Override
        public DeviceInfo info() {
            return new DeviceInfo(0, "Recording GPU", 9, 0, 1L << 34, 132);
        }

        @Override
        public void makeCurrent() {
        }

        @Override
        public long allocate(long bytes) {
            calls.add("cuMemAlloc");
            long a = next;
            next += (bytes + 511) / 512 * 512;
            live.put(a, bytes);
            return a;
        }

        @Override
        public void free(long address) {
            calls.add("cuMemFree");
            if (live.remove(address) == null) throw new AssertionError("free of unknown block");
        }

        @Override
        public void zero(long address, long floats) {
            zeroed += floats;
        }

        @Override
        public void upload(Pointer host, long blockAddress, long byteOffset, long bytes) {
            calls.add("cuMemcpyHtoD");
            assertTrue(live.containsKey(blockAddress), "upload into a live block");
            assertTrue(byteOffset + bytes <= live.get(blockAddress), "upload within the block");
            uploads += bytes;
        }

        @Override
        public void download(long blockAddress, long byteOffset, Pointer host, long bytes) {
            calls.add("cuMemcpyDtoH");
            assertTrue(byteOffset + bytes <= live.get(blockAddress), "download within the block");
            downloads++;
        }

        @Override
        public void stage(int[] ints, float[] floats, long blockAddress) {
            calls.add("stage");
            stagedAt.add(blockAddress);
            if (ints != null) stagedInts.add(ints.clone());
            else stagedFloats.add(floats.clone());
            long bytes = 4L * (ints != null ? ints.length : floats.length);
            assertTrue(bytes <= live.get(blockAddress), "staged array fits its block");
        }

        @Override
        public void launch(Kernel kernel, String entry, Launch launch, KernelArgs args) {
            calls.add("launch:" + entry);
            (capture != null ? capture : launches).add(new Launched(kernel, entry, launch, args));
        }

        @Override
        public void synchronize() {
            calls.add("cuStreamSynchronize");
            syncs++;
        }

        @Override
        public void beginCapture() {
            calls.add("cuStreamBeginCapture");
            assertTrue(capture == null, "no capture in progress");
            capture = new ArrayList<>();
        }

        @Override
        public long endCapture() {
            calls.add("cuStreamEndCapture");
            List<Launched> captured = capture;
            capture = null;
            if (failNextCapture) {
                failNextCapture = false;
                throw new dev.floe.spi.BackendException("cuStreamEndCapture failed: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED (901)");
            }
            graphs.put(++handles, captured);
            return handles;
        }

        @Override
        public long instantiate(long graph) {
            calls.add("cuGraphInstantiate");
            assertTrue(graphs.containsKey(graph), "instantiate a captured graph");
            execs.put(++handles, graph);
            return handles;
        }

        @Override
        public void launchGraph(long exec) {
            calls.add("cuGraphLaunch");
            assertTrue(execs.containsKey(exec), "launch a live executable");
        }

        @Override
        public void destroyGraph(long graph, long exec) {
            calls.add("cuGraphDestroy");
            if (exec != 0) assertTrue(execs.remove(exec) != null, "destroy a live executable");
            assertTrue(graphs.remove(graph) != null, "destroy a live graph");
        }

        @Override
        public long streamHandle() {
            return 0;
        }

        @Override
        public void close() {
        }

        Launched last() {
            return launches.getLast();
        }
    }

    static final Map<String, PtxModule> PTX = new HashMap<>();

    /** The launch matches the committed PTX of both architectures: entry declared, parameter types equal. */
    static void matchesPtx(Launched l) {
        for (String arch : PtxModule.ARCHS) {
            PtxModule ptx = PTX.computeIfAbsent(l.kernel().module() + arch, k -> PtxModule.load(l.kernel().module(), arch));
            assertEquals(ptx.parameterTypes(l.entry()), PtxModule.ptxTypes(l.args().signature()),
                    () -> l.entry() + " in " + arch + ": PTX parameters vs. host arguments");
        }
    }

    /**
     * The launch received exactly these scalar arguments (ints, {@code long long}s as longs, floats), in the order of
     * the kernel's signature in {@code src/main/cuda}: a swap of two same-typed arguments (rows and dim, heads and
     * head_dim) keeps the PTX types and fails here.
     */
    static void scalars(Launched l, Number... expected) {
        assertEquals(List.of(expected), l.args().scalars(), () -> l.entry() + ": scalar arguments");
    }

    TensorData tensor(String name, DType dtype, long rows, long cols, TensorData scale) {
        long[] shape = rows == 1 && cols > 0 && name.startsWith("v") ? new long[]{cols} : new long[]{rows, cols};
        return new TensorData(name, dtype, shape, arena.allocate(rows * cols * dtype.bytes(), 16), scale);
    }

    @Test
    void everyKernelMethodLaunchesAMatchingEntry() {
        int dim = 256, rows = 3;
        TensorData rowScale = tensor("s", DType.F32, 64, 1, null);
        Weight table = cuda.weight(tensor("emb", DType.BF16, 50, dim, null));
        Weight norm = cuda.weight(tensor("v.norm", DType.F32, 1, dim, null));
        Weight fp8 = cuda.weight(tensor("w8", DType.F8_E4M3, 64, dim, rowScale));
        Buffer x = cuda.allocate((long) 100 * dim), out = cuda.allocate((long) 100 * dim);

        cuda.embed(table, new int[]{4, 0, 49}, x);
        assertEquals("embed_bf16", device.last().entry());
        assertEquals(new Launch(3, 1, 1, 256), device.last().launch());
        assertArrayEquals(new int[]{4, 0, 49}, device.stagedInts.getLast());
        matchesPtx(device.last());
        scalars(device.last(), 0, dim); // scaleStride (unscaled), cols

        cuda.rmsNorm(x, norm, 1e-5f, rows, dim, x);
        assertEquals("rms_norm_f32", device.last().entry());
        matchesPtx(device.last());
        scalars(device.last(), 1e-5f, dim); // eps, dim

        for (int r : new int[]{1, 64, 65}) {
            cuda.matmul(x, r, fp8, out);
            assertEquals(r <= 64 ? "matvec_e4m3" : "gemm_e4m3", device.last().entry());
            matchesPtx(device.last());
            scalars(device.last(), r, 1, 64, dim); // rows, scaleStride (per row), outRows, cols
        }

        cuda.rope(x, rows, 4, 64, new int[]{7, 8, 9, 10}, 10000f);
        assertArrayEquals(new int[]{7, 8, 9}, device.stagedInts.getLast(), "only the first rows' positions");
        matchesPtx(device.last());
        scalars(device.last(), rows, 4, 64, 10000f); // rows, heads, headDim, theta

        cuda.swiglu(x, out, 100, out);
        matchesPtx(device.last());
        scalars(device.last(), 100L); // n
        cuda.add(x, out, 100, x);
        assertEquals("add", device.last().entry());
        matchesPtx(device.last());
        scalars(device.last(), 100L);

        cuda.gatherRows(x, dim, new int[]{2, 2, 0}, out);
        assertEquals(new Launch(3, 1, 1, 256), device.last().launch());
        matchesPtx(device.last());
        scalars(device.last(), dim); // cols
        cuda.scatterAddRows(out, dim, new int[]{1, 1}, new float[]{0.25f, 0.75f}, x);
        assertArrayEquals(new float[]{0.25f, 0.75f}, device.stagedFloats.getLast());
        matchesPtx(device.last());
        scalars(device.last(), dim, 2); // cols, n
    }

    @Test
    void kvStoreAndAttentionStageTheirIndices() {
        KvLayout layout = new KvLayout(2, 2, 64, 8, 4);
        KvCache cache = cuda.kvCache(layout);
        assertEquals(layout.byteSize() / 4, device.zeroed);
        Buffer k = cuda.allocate(5 * 128), v = cuda.allocate(5 * 128), q = cuda.allocate(5 * 512), o = cuda.allocate(5 * 512);
        cuda.storeKv(cache, 1, k, v, 5, new int[]{20, 21, 22, 23, 4});
        assertArrayEquals(new int[]{20, 21, 22, 23, 4}, device.stagedInts.getLast());
        matchesPtx(device.last());
        scalars(device.last(), 5, 2 * 64); // rows, width (kvHeads * headDim)
        assertThrows(IllegalArgumentException.class, () -> cuda.storeKv(cache, 1, k, v, 1, new int[]{32}));
        assertThrows(IllegalArgumentException.class, () -> cuda.storeKv(cache, 2, k, v, 1, new int[]{0}));

        int before = device.stagedInts.size();
        cuda.attention(q, cache, 1, new AttentionBatch(8, new int[]{4, 0}, new int[]{0, 1}, new int[][]{{5, 1}, {3}}), o);
        Launched l = device.last();
        assertEquals("paged_attention", l.entry());
        assertEquals(new Launch(2, 8, 1, 128), l.launch());
        matchesPtx(l);
        // maxBlocks, blockSize, heads, kvHeads, headDim, 1/sqrt(headDim), chunk (positions 0..4 in one split)
        scalars(l, 2, 4, 8, 2, 64, 0.125f, 5);
        List<int[]> staged = device.stagedInts.subList(before, device.stagedInts.size());
        assertArrayEquals(new int[]{4, 0}, staged.get(0));
        assertArrayEquals(new int[]{0, 1}, staged.get(1));
        assertArrayEquals(new int[]{5, 1, 3, -1}, staged.get(2));
    }

    /** One decode row over a long context: the key range is split, then the splits are combined. */
    @Test
    void longContextAttentionSplitsAndCombines() {
        KvLayout layout = new KvLayout(1, 2, 64, 40, 32);
        KvCache cache = cuda.kvCache(layout);
        int[] table = new int[40];
        for (int i = 0; i < 40; i++) table[i] = 39 - i;
        Buffer q = cuda.allocate(8 * 64), o = cuda.allocate(8 * 64);
        int launches = device.launches.size();
        cuda.attention(q, cache, 0, AttentionBatch.single(8, new int[]{1200}, table), o);
        List<Launched> l = device.launches.subList(launches, device.launches.size());
        assertEquals(2, l.size());
        assertEquals("paged_attention", l.get(0).entry());
        assertEquals(5, l.get(0).launch().gridZ(), "ceil(1201 / 256) splits");
        assertEquals("attention_combine", l.get(1).entry());
        assertEquals(new Launch(1, 8, 1, 128), l.get(1).launch());
        matchesPtx(l.get(0));
        matchesPtx(l.get(1));
        scalars(l.get(0), 40, 32, 8, 2, 64, 0.125f, 241); // ..., chunk = ceil(1201 / 5)
        scalars(l.get(1), 1, 8, 64, 5); // rows, heads, headDim, splits
    }

    @Test
    void argumentsAreValidatedAndNamed() {
        Weight table = cuda.weight(tensor("emb", DType.F32, 10, 8, null));
        Buffer small = cuda.allocate(8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.embed(table, new int[]{10}, small))
                .getMessage().contains("ids[0] = token id 10"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.embed(table, new int[]{1, 2}, small))
                .getMessage().contains("out holds 8 floats, 16 needed"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.rope(small, 1, 1, 7, new int[]{0}, 1e4f))
                .getMessage().contains("headDim=7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.scatterAddRows(small, 8, new int[]{0}, new float[0], small))
                .getMessage().contains("1 rows but 0 scales"));
        CudaBackend other = new CudaBackend(new RecordingDevice(), false);
        Buffer foreign = other.allocate(8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.add(foreign, small, 8, small))
                .getMessage().contains("a is not a buffer of this CUDA backend"));
        other.close();
        assertThrows(IllegalArgumentException.class, () -> cuda.weight(new TensorData("ids", DType.I32, new long[]{4},
                arena.allocate(16), null)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cuda.weight(new TensorData("cube", DType.F32,
                new long[]{2, 2, 2}, arena.allocate(32), null))).getMessage().contains("cube"));
        int launches = device.launches.size();
        cuda.add(small, small, 0, small);
        cuda.embed(table, new int[0], small);
        assertEquals(launches, device.launches.size(), "empty work launches nothing");
    }

    @Test
    void memoryAccountingAndClosing() {
        long before = cuda.memoryInUse();
        Buffer b = cuda.allocate(1000);
        assertEquals(before + 4096, cuda.memoryInUse());
        float[] host = new float[10];
        cuda.upload(host, 0, b, 990, 10);
        assertThrows(IllegalArgumentException.class, () -> cuda.upload(host, 0, b, 991, 10));
        assertThrows(IllegalArgumentException.class, () -> cuda.download(b, 0, host, 5, 6));
        b.close();
        b.close();
        assertEquals(before, cuda.memoryInUse());
        assertThrows(IllegalStateException.class, () -> cuda.add(b, b, 1, b));
        Weight w = cuda.weight(tensor("w", DType.F8_E5M2, 4, 16, tensor("s", DType.F32, 1, 1, null)));
        assertEquals(4 * 16 + 4, w.byteSize());
        assertEquals(0, ((CudaWeight) w).scaleStride(), "scalar scale");
        w.close();
        assertEquals(before, cuda.memoryInUse());
        assertTrue(cuda.device().contains("Recording GPU") && cuda.device().contains("cuda.prefill=kernels"), cuda.device());
        cuda.synchronize();
        assertTrue(device.syncs > 0);
        Arrays.fill(host, 1f);
    }
}
