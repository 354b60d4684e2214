package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.KernelArguments;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.MoeCall;
import dev.floe.spi.Plan;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.lwjgl.opencl.CL10.*;

/**
 * The OpenCL backend on one device: one context, one in-order command queue, one program. Kernels are enqueued
 * without waiting; {@link #download} and {@link #synchronize} block. Small host arrays that parameterise a kernel
 * (token ids, positions, slots, block tables, RoPE angles) travel through a {@link ParamRing} with non-blocking
 * writes, so that a decode step never stalls the queue.
 */
final class OpenClBackend implements Backend {
    static final Set<Capability> CAPABILITIES = Collections.unmodifiableSet(java.util.EnumSet.of(
            Capability.WEIGHTS_F32, Capability.WEIGHTS_F16, Capability.WEIGHTS_BF16,
            Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2, Capability.WEIGHTS_BLOCK_SCALES, Capability.DEVICE_MEMORY,
            Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.PLANS, Capability.DISPATCH_COUNTER));

    /** Rows of the matmul kernel's token block (MM_ROWS in kernels.cl). */
    static final int MM_ROWS = 8;
    /** Default upper bound of the attention score scratch, in floats; longer batches run in several launches. */
    private static final long SCORE_SCRATCH_FLOATS = 32L << 20;
    /** Host-to-device copies of weights go in pieces of this many bytes. */
    private static final long UPLOAD_CHUNK = 64L << 20;
    /** Initial size of the kernel parameter ring; uploads up to a quarter of it go through the ring too. */
    private static final long PARAM_RING_BYTES = 1L << 20;

    private final ClDevice device;
    private final long context;
    private final long queue;
    private final ClProgram program;
    private final ParamRing params;
    private final Set<DeviceMemory> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final AtomicLong memoryInUse = new AtomicLong();
    private long scores;
    private long scoreBytes;
    private long scoreLimit = SCORE_SCRATCH_FLOATS;
    /** Kernels enqueued since the backend opened ({@link Capability#DISPATCH_COUNTER}). */
    private final AtomicLong dispatches = new AtomicLong();
    private volatile boolean closed;
    /** The fused MoE operation and its packed expert banks, made on first use. */
    private ClMoe moe;
    /** Compiled plans not yet closed: they hold kernel objects of the program, released before it. */
    private final Set<ClPlan> plans = Collections.newSetFromMap(new IdentityHashMap<>());

    private OpenClBackend(ClDevice device, long context, long queue, ClProgram program, ParamRing params) {
        this.device = device;
        this.context = context;
        this.queue = queue;
        this.program = program;
        this.params = params;
    }

    /** Creates a context, queue and program on {@code device}; releases what it made if a step fails. */
    static OpenClBackend open(ClDevice device) {
        long context = 0;
        long queue = 0;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            PointerBuffer properties = stack.mallocPointer(3);
            properties.put(0, CL_CONTEXT_PLATFORM).put(1, platformOf(device.id())).put(2, 0);
            context = clCreateContext(properties, device.id(), null, 0L, err);
            ClErrors.check(err.get(0), "clCreateContext(" + device.name() + ")");
            queue = clCreateCommandQueue(context, device.id(), 0L, err);
            ClErrors.check(err.get(0), "clCreateCommandQueue(" + device.name() + ")");
            ClProgram program = new ClProgram(context, device);
            try {
                return new OpenClBackend(device, context, queue, program, new ParamRing(context, queue, PARAM_RING_BYTES));
            } catch (RuntimeException e) {
                program.close();
                throw e;
            }
        } catch (RuntimeException e) {
            if (queue != 0) clReleaseCommandQueue(queue);
            if (context != 0) clReleaseContext(context);
            throw e;
        }
    }

    private static long platformOf(long device) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer platform = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, CL_DEVICE_PLATFORM, platform, null), "clGetDeviceInfo(CL_DEVICE_PLATFORM)");
            return platform.get(0);
        }
    }

    @Override
    public String name() {
        return OpenClProvider.NAME;
    }

    @Override
    public String device() {
        return device.describe();
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    // ---- memory ------------------------------------------------------------------------------------------------

    @Override
    public Buffer allocate(long floats) {
        requireOpen();
        if (floats < 0) throw new IllegalArgumentException("allocate: floats must not be negative: " + floats);
        long bytes = Math.max(1, floats) * Float.BYTES;
        long mem = createZeroed(bytes, "buffer of " + floats + " floats");
        return track(new ClBuffer(this, mem, floats, bytes));
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n) {
        requireOpen();
        checkRange("upload: src", src.length, srcOffset, n);
        ClBuffer d = buffer(dst, "dst");
        checkRange("upload: dst", d.floats(), dstOffset, n);
        if (n == 0) return;
        long bytes = (long) n * Float.BYTES;
        if (bytes <= PARAM_RING_BYTES / 4) {
            // Small uploads (router logits, a decode step's activations) stay asynchronous through the ring.
            ParamRing.Slice p = params.floats(src, srcOffset, n);
            ClErrors.check(clEnqueueCopyBuffer(queue, p.mem(), d.mem(), p.offset() * Float.BYTES,
                    dstOffset * Float.BYTES, bytes, null, null), "clEnqueueCopyBuffer(upload of " + n + " floats)");
            return;
        }
        FloatBuffer staging = MemoryUtil.memAllocFloat(n);
        try {
            staging.put(0, src, srcOffset, n);
            ClErrors.check(clEnqueueWriteBuffer(queue, d.mem(), true, dstOffset * Float.BYTES, staging, null, null),
                    "clEnqueueWriteBuffer(upload of " + n + " floats)");
            params.drained();
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n) {
        requireOpen();
        ClBuffer s = buffer(src, "src");
        checkRange("download: src", s.floats(), srcOffset, n);
        checkRange("download: dst", dst.length, dstOffset, n);
        if (n == 0) {
            synchronize();
            return;
        }
        FloatBuffer staging = MemoryUtil.memAllocFloat(n);
        try {
            ClErrors.check(clEnqueueReadBuffer(queue, s.mem(), true, srcOffset * Float.BYTES, staging, null, null),
                    "clEnqueueReadBuffer(download of " + n + " floats)");
            params.drained();
            staging.get(0, dst, dstOffset, n);
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    @Override
    public Weight weight(TensorData tensor) {
        return weight(tensor, (ScaleLayout.Block) null, false);
    }

    /** Tensor and channel scales as {@link #weight(TensorData)}; a block grid goes to the matmul_block kernels. */
    @Override
    public Weight weight(TensorData tensor, ScaleLayout layout) {
        return weight(tensor, layout instanceof ScaleLayout.Block b ? b : null, true);
    }

    private Weight weight(TensorData tensor, ScaleLayout.Block blockSize, boolean blocksAllowed) {
        requireOpen();
        DType dtype = tensor.dtype();
        if (!CAPABILITIES.contains(Capability.forWeights(dtype))) {
            throw new IllegalArgumentException("weight " + tensor.name() + ": dtype " + dtype + " is not a weight dtype");
        }
        long cols = tensor.cols();
        long rows = tensor.rows();
        if (tensor.numel() == 0 || rows * cols != tensor.numel()) {
            throw new IllegalArgumentException("weight " + tensor.name() + ": shape " + java.util.Arrays.toString(
                    tensor.shape()) + " is not a non-empty matrix [rows, cols] or vector");
        }
        ScaleLayout layout = ScaleLayout.of(tensor, blocksAllowed ? blockSize : null);
        ScaleLayout.Block block = layout instanceof ScaleLayout.Block b ? b : null;
        if (block != null && dtype != DType.F8_E4M3 && dtype != DType.F8_E5M2) {
            throw new IllegalArgumentException("weight " + tensor.name() + ": block scales need an FP8 dtype, not " + dtype);
        }
        float[] scales = scales(tensor);
        long dataBytes = tensor.data().byteSize();
        long data = createBuffer(roundUp(dataBytes, Float.BYTES), "weight " + tensor.name());
        long scale = 0;
        try {
            write(data, tensor.data(), tensor.name());
            int[] err = new int[1];
            scale = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, scales, err);
            ClErrors.check(err[0], "clCreateBuffer(scale of " + tensor.name() + ")");
        } catch (RuntimeException e) {
            clReleaseMemObject(data);
            throw e;
        }
        long bytes = roundUp(dataBytes, Float.BYTES) + (long) scales.length * Float.BYTES;
        return track(new ClWeight(this, tensor.name(), dtype, rows, cols, data, scale, scales.length == 1 ? 0 : 1, block, bytes));
    }

    /** One F32 scale per row, or a single one (1 for an unscaled weight). */
    private static float[] scales(TensorData tensor) {
        TensorData s = tensor.scale();
        if (s == null) return new float[]{1f};
        float[] out = new float[(int) s.numel()];
        for (int i = 0; i < out.length; i++) out[i] = FloatFormats.read(s, i);
        return out;
    }

    /** Blocking copy of a (possibly memory-mapped, possibly heap) segment into device memory. */
    private void write(long mem, MemorySegment data, String name) {
        long size = data.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = data.isNative() ? null : arena.allocate(Math.min(size, UPLOAD_CHUNK));
            for (long off = 0; off < size; off += UPLOAD_CHUNK) {
                long len = Math.min(UPLOAD_CHUNK, size - off);
                long address;
                if (staging == null) {
                    address = data.address() + off;
                } else {
                    MemorySegment.copy(data, off, staging, 0, len);
                    address = staging.address();
                }
                ClErrors.check(nclEnqueueWriteBuffer(queue, mem, CL_TRUE, off, len, address, 0, 0L, 0L),
                        "clEnqueueWriteBuffer(weight " + name + ", bytes " + off + ".." + (off + len) + ")");
            }
            params.drained();   // a blocking write on the in-order queue has waited for everything before it
        }
    }

    @Override
    public KvCache kvCache(KvLayout layout) {
        requireOpen();
        long bytesPerLayer = layout.slots() * layout.rowWidth() * Float.BYTES;
        long[] keys = new long[layout.layers()];
        long[] values = new long[layout.layers()];
        try {
            for (int l = 0; l < layout.layers(); l++) {
                keys[l] = createZeroed(bytesPerLayer, "KV cache keys of layer " + l);
                values[l] = createZeroed(bytesPerLayer, "KV cache values of layer " + l);
            }
        } catch (RuntimeException e) {
            for (long h : keys) if (h != 0) clReleaseMemObject(h);
            for (long h : values) if (h != 0) clReleaseMemObject(h);
            throw e;
        }
        return track(new ClKvCache(this, layout, keys, values));
    }

    @Override
    public long memoryInUse() {
        return closed ? 0 : memoryInUse.get() + params.bytes();
    }

    // ---- kernels -----------------------------------------------------------------------------------------------

    @Override
    public void embed(Weight table, int[] ids, Buffer out) {
        requireOpen();
        ClWeight t = weight(table, "table");
        ClBuffer o = buffer(out, "out", (long) ids.length * t.cols(), "ids.length x table.cols");
        KernelArguments.tokenIds("embed", ids, t.rows(), t.name());
        if (ids.length == 0) return;
        ParamRing.Slice p = params.ints(ids, ids.length);
        embedRows(t, p.mem(), p.offset(), ids.length, o);
    }

    @Override
    public void embed(Weight table, Step step, Buffer out) {
        requireOpen();
        ClWeight t = weight(table, "table");
        ClStep s = step(step);
        int rows = s.rows();
        ClBuffer o = buffer(out, "out", (long) rows * t.cols(), "step rows x table.cols");
        KernelArguments.tokenIds("embed", s.metadata().tokens(), t.rows(), t.name());
        if (rows == 0) return;
        embedRows(t, s.ints(), s.tokensOffset(), rows, o);
    }

    private void embedRows(ClWeight t, long ids, long idsOffset, int rows, ClBuffer o) {
        matmulOnly(t, "embed");
        launch("embed_" + t.kernelSuffix()).mem(t.data()).mem(t.scale()).i(t.scaleStride()).l(t.cols())
                .mem(ids).l(idsOffset).mem(o.mem()).run2(t.cols(), rows);
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) {
        requireOpen();
        checkCount("rmsNorm: rows", rows);
        if (dim < 1) throw new IllegalArgumentException("rmsNorm: dim must be positive: " + dim);
        ClWeight wt = weight(w, "w");
        if (wt.rows() * wt.cols() != dim) {
            throw new IllegalArgumentException("rmsNorm: weight " + wt.name() + " has " + wt.rows() * wt.cols()
                    + " elements, dim is " + dim);
        }
        ClBuffer xb = buffer(x, "x", (long) rows * dim, "rows x dim");
        ClBuffer ob = buffer(out, "out", (long) rows * dim, "rows x dim");
        if (rows == 0) return;
        matmulOnly(wt, "rmsNorm");
        Launch l = launch("rmsnorm_" + wt.kernelSuffix());
        l.mem(xb.mem()).mem(wt.data()).mem(wt.scale()).f(eps).i(dim).mem(ob.mem())
                .local((long) l.localSize() * Float.BYTES).runGroups(rows, 1);
    }

    @Override
    public void matmul(Buffer x, int rows, Weight w, Buffer out) {
        requireOpen();
        checkCount("matmul: rows", rows);
        ClWeight wt = weight(w, "w");
        ClBuffer xb = buffer(x, "x", rows * wt.cols(), "rows x w.cols");
        ClBuffer ob = buffer(out, "out", rows * wt.rows(), "rows x w.rows");
        noAlias("matmul", xb, "x", ob, "out");
        if (rows == 0) return;
        Launch l;
        if (wt.block() != null) {
            ScaleLayout.Block b = wt.block();
            l = launch("matmul_block_" + wt.kernelSuffix());
            l.mem(xb.mem()).i(rows).mem(wt.data()).mem(wt.scale()).i(b.rows()).i(b.cols()).l(b.gridCols(wt.cols()));
        } else {
            // one token row (decode): matvec.cl's kernel, the same sums without matmul's 8-row blocking
            l = launch((rows == 1 ? "matvec_" : "matmul_") + wt.kernelSuffix());
            l.mem(xb.mem()).i(rows).mem(wt.data()).mem(wt.scale()).i(wt.scaleStride());
        }
        boolean vector = rows == 1 && wt.block() == null;
        l.l(wt.cols()).l(wt.rows()).mem(ob.mem()).local((long) MM_ROWS * l.localSize() * Float.BYTES)
                .runGroups(wt.rows(), vector ? 1 : (rows + MM_ROWS - 1) / MM_ROWS);
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) {
        requireOpen();
        checkCount("rope: rows", rows);
        if (heads < 1) throw new IllegalArgumentException("rope: heads must be positive: " + heads);
        if (headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: headDim must be even and positive: " + headDim);
        }
        if (positions.length < rows) {
            throw new IllegalArgumentException("rope: " + positions.length + " positions for " + rows + " rows");
        }
        ClBuffer xb = buffer(x, "x", (long) rows * heads * headDim, "rows x heads x headDim");
        if (rows == 0) return;
        // Angles in double on the host: exact enough for any position, and no device needs fp64.
        int half = headDim / 2;
        float[] cs = new float[rows * headDim];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < half; j++) {
                double angle = positions[r] * Math.pow(theta, -2.0 * j / headDim);
                cs[r * headDim + j] = (float) Math.cos(angle);
                cs[r * headDim + half + j] = (float) Math.sin(angle);
            }
        }
        ParamRing.Slice p = params.floats(cs, 0, cs.length);
        rotate(xb, rows, heads, headDim, p.mem(), p.offset());
    }

    @Override
    public void rope(Buffer x, int heads, Step step) {
        requireOpen();
        ClStep s = step(step);
        if (heads < 1) throw new IllegalArgumentException("rope: heads must be positive: " + heads);
        int rows = s.rows(), headDim = s.metadata().headDim();
        ClBuffer xb = buffer(x, "x", (long) rows * heads * headDim, "step rows x heads x headDim");
        if (rows == 0) return;
        rotate(xb, rows, heads, headDim, s.rotations(), 0);
    }

    /** Rotates rows of {@code x} by the rotation rows at {@code cs + csOffset} (per row, the cosines then the sines). */
    private void rotate(ClBuffer xb, int rows, int heads, int headDim, long cs, long csOffset) {
        launch("rope").mem(xb.mem()).i(rows).i(heads).i(headDim).mem(cs).l(csOffset)
                .run((long) rows * heads * (headDim / 2));
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
        requireOpen();
        checkCount("storeKv: rows", rows);
        ClKvCache c = cache(cache);
        KvLayout layout = c.layout();
        checkLayer("storeKv", layer, layout);
        int width = layout.rowWidth();
        ClBuffer kb = buffer(k, "k", (long) rows * width, "rows x kvHeads x headDim");
        ClBuffer vb = buffer(v, "v", (long) rows * width, "rows x kvHeads x headDim");
        KernelArguments.slots("storeKv", slots, rows, layout);
        if (rows == 0) return;
        ParamRing.Slice p = params.ints(slots, rows);
        store(c, layer, kb, vb, rows, p.mem(), p.offset());
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, Step step) {
        requireOpen();
        ClStep s = step(step);
        ClKvCache c = cache(cache);
        KvLayout layout = c.layout();
        checkLayer("storeKv", layer, layout);
        int rows = s.rows(), width = layout.rowWidth();
        ClBuffer kb = buffer(k, "k", (long) rows * width, "step rows x kvHeads x headDim");
        ClBuffer vb = buffer(v, "v", (long) rows * width, "step rows x kvHeads x headDim");
        KernelArguments.slots("storeKv", s.metadata().slots(), rows, layout);
        if (rows == 0) return;
        store(c, layer, kb, vb, rows, s.ints(), s.slotsOffset());
    }

    private void store(ClKvCache c, int layer, ClBuffer kb, ClBuffer vb, int rows, long slots, long slotsOffset) {
        int width = c.layout().rowWidth();
        launch("store_kv").mem(kb.mem()).mem(vb.mem()).mem(slots).l(slotsOffset).i(rows).i(width)
                .mem(c.keys(layer)).mem(c.values(layer)).run((long) rows * width);
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
        requireOpen();
        ClKvCache c = cache(cache);
        Attend a = attendArguments(q, c, layer, batch, out);
        if (batch.rows() == 0) return;
        int[] meta = ClStep.attentionInts(batch);
        ParamRing.Slice p = params.ints(meta, meta.length);
        attend(a, c, layer, batch, p.mem(), p.offset());
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, Step step, Buffer out) {
        requireOpen();
        ClStep s = step(step);
        ClKvCache c = cache(cache);
        Attend a = attendArguments(q, c, layer, s.attention(), out);
        if (s.rows() == 0) return;
        attend(a, c, layer, s.attention(), s.ints(), s.attentionOffset());
    }

    /** The checked buffers of an attention call. */
    private record Attend(ClBuffer q, ClBuffer out) {
    }

    private Attend attendArguments(Buffer q, ClKvCache c, int layer, AttentionBatch batch, Buffer out) {
        KvLayout layout = c.layout();
        checkLayer("attention", layer, layout);
        int heads = batch.heads();
        if (heads < 1 || heads % layout.kvHeads() != 0) {
            throw new IllegalArgumentException("attention: heads = " + heads + " is not a positive multiple of kvHeads = "
                    + layout.kvHeads());
        }
        int rows = batch.rows();
        int headDim = layout.headDim();
        ClBuffer qb = buffer(q, "q", (long) rows * heads * headDim, "rows x heads x headDim");
        ClBuffer ob = buffer(out, "out", (long) rows * heads * headDim, "rows x heads x headDim");
        noAlias("attention", qb, "q", ob, "out");
        KernelArguments.attentionBatch("attention", batch, layout);
        return new Attend(qb, ob);
    }

    /** Enqueues attention over the batch laid out at {@code meta + metaOffset} as {@link ClStep#attentionInts}. */
    private void attend(Attend a, ClKvCache c, int layer, AttentionBatch batch, long meta, long metaOffset) {
        KvLayout layout = c.layout();
        int heads = batch.heads(), rows = batch.rows(), headDim = layout.headDim();
        int sequences = batch.blockTables().length;
        long cap = Math.max(scoreLimit, (long) heads * (maxPosition(batch, 0, rows) + 1));
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int start = 0; start < rows; ) {
            // As many rows as fit the score scratch: each needs heads x (longest context in the launch) floats.
            int end = start + 1;
            long longest = batch.position(start) + 1L;
            while (end < rows && (end - start + 1L) * heads * Math.max(longest, batch.position(end) + 1L) <= cap) {
                longest = Math.max(longest, batch.position(end) + 1L);
                end++;
            }
            long scratch = scoreScratch((end - start) * heads * longest);
            Launch l = launch("attention");
            l.mem(a.q().mem()).mem(c.keys(layer)).mem(c.values(layer)).mem(meta).l(metaOffset).i(rows)
                    .i(sequences).i(start).mem(scratch).l(longest).mem(a.out().mem()).i(heads)
                    .i(layout.kvHeads()).i(headDim).i(layout.blockSize()).f(scale)
                    .local((long) l.localSize() * Float.BYTES).local((long) headDim * Float.BYTES)
                    .runGroups(heads, end - start);
            start = end;
        }
    }

    private static int maxPosition(AttentionBatch batch, int from, int to) {
        int max = 0;
        for (int r = from; r < to; r++) max = Math.max(max, batch.position(r));
        return max;
    }

    /** The attention score scratch, grown to at least {@code floats}. */
    private long scoreScratch(long floats) {
        long bytes = floats * Float.BYTES;
        if (bytes > scoreBytes) {
            if (scores != 0) {
                clReleaseMemObject(scores);
                memoryInUse.addAndGet(-scoreBytes);
                scores = 0;
                scoreBytes = 0;
            }
            scores = createBuffer(bytes, "attention score scratch");
            scoreBytes = bytes;
            memoryInUse.addAndGet(bytes);
        }
        return scores;
    }

    @Override
    public void swiglu(Buffer gate, Buffer up, long n, Buffer out) {
        requireOpen();
        checkCount("swiglu: n", n);
        ClBuffer g = buffer(gate, "gate", n, "n");
        ClBuffer u = buffer(up, "up", n, "n");
        ClBuffer o = buffer(out, "out", n, "n");
        if (n == 0) return;
        launch("swiglu").mem(g.mem()).mem(u.mem()).l(n).mem(o.mem()).run(n);
    }

    @Override
    public void add(Buffer a, Buffer b, long n, Buffer out) {
        requireOpen();
        checkCount("add: n", n);
        ClBuffer ab = buffer(a, "a", n, "n");
        ClBuffer bb = buffer(b, "b", n, "n");
        ClBuffer o = buffer(out, "out", n, "n");
        if (n == 0) return;
        launch("add").mem(ab.mem()).mem(bb.mem()).l(n).mem(o.mem()).run(n);
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) {
        requireOpen();
        if (cols < 1) throw new IllegalArgumentException("gatherRows: cols must be positive: " + cols);
        ClBuffer s = buffer(src, "src");
        ClBuffer d = buffer(dst, "dst", (long) rows.length * cols, "rows.length x cols");
        noAlias("gatherRows", s, "src", d, "dst");
        checkRows("gatherRows", rows, s.floats() / cols);
        if (rows.length == 0) return;
        ParamRing.Slice p = params.ints(rows, rows.length);
        launch("gather_rows").mem(s.mem()).i(cols).mem(p.mem()).l(p.offset()).i(rows.length).mem(d.mem())
                .run((long) rows.length * cols);
    }

    @Override
    public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) {
        requireOpen();
        if (cols < 1) throw new IllegalArgumentException("scatterAddRows: cols must be positive: " + cols);
        if (scales.length != rows.length) {
            throw new IllegalArgumentException("scatterAddRows: " + scales.length + " scales for " + rows.length + " rows");
        }
        ClBuffer s = buffer(src, "src", (long) rows.length * cols, "rows.length x cols");
        ClBuffer d = buffer(dst, "dst");
        noAlias("scatterAddRows", s, "src", d, "dst");
        checkRows("scatterAddRows", rows, d.floats() / cols);
        if (rows.length == 0) return;
        ParamRing.Slice r = params.ints(rows, rows.length);
        ParamRing.Slice f = params.floats(scales, 0, scales.length);
        launch("scatter_add_rows").mem(s.mem()).i(cols).mem(r.mem()).l(r.offset()).mem(f.mem()).l(f.offset())
                .i(rows.length).mem(d.mem()).run(cols);
    }

    // ---- SPI 2 ---------------------------------------------------------------------------------------------------

    /**
     * Writes the pass's metadata into two memory objects, copied from the host when they are created: the queue
     * never waits for them, and every layer's kernels read them where they are.
     */
    @Override
    public Step step(StepMetadata metadata) {
        requireOpen();
        if (metadata == null) throw new IllegalArgumentException("step: metadata is null");
        AttentionBatch batch = metadata.attentionBatch();
        int[] ints = ClStep.ints(metadata, batch);
        int[] rotations = ClStep.rotationBits(metadata);
        long intMem = createFilled(ints.length == 0 ? new int[1] : ints, "step ints of " + metadata.rows() + " rows");
        long rotationMem;
        try {
            rotationMem = createFilled(rotations, "step rotation rows of " + metadata.rows() + " rows");
        } catch (RuntimeException e) {
            clReleaseMemObject(intMem);
            throw e;
        }
        long bytes = (long) Math.max(1, ints.length) * Integer.BYTES + (long) rotations.length * Integer.BYTES;
        return track(new ClStep(this, metadata, batch, intMem, rotationMem, bytes));
    }

    /** At most three kernels and no host read (see {@link ClMoe}). */
    @Override
    public void moe(MoeCall call) {
        requireOpen();
        if (call == null) throw new IllegalArgumentException("moe: call is null");
        if (moe == null) moe = new ClMoe(this);
        moe.run(call);
    }

    /** One enqueue sequence per plan, no host read in it ({@link ClPlan}). */
    @Override
    public CompiledPlan compile(Plan plan) {
        requireOpen();
        if (plan == null) throw new IllegalArgumentException("compile: plan is null");
        ClPlan compiled = new ClPlan(this, plan);
        plans.add(compiled);
        return compiled;
    }

    /** A plan closed itself. */
    void forget(ClPlan plan) {
        plans.remove(plan);
    }

    @Override
    public long dispatches() {
        return dispatches.get();
    }

    @Override
    public void synchronize() {
        requireOpen();
        ClErrors.check(clFinish(queue), "clFinish");
        params.drained();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        clFinish(queue);   // a failed kernel must not keep the release below from running
        if (moe != null) moe.close();
        for (ClPlan p : List.copyOf(plans)) p.close();
        for (DeviceMemory m : List.copyOf(live)) m.free();
        live.clear();
        if (scores != 0) clReleaseMemObject(scores);
        scores = 0;
        memoryInUse.set(0);
        params.close();
        program.close();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    /** Frees one resource of this backend (its close). Nothing to do once the backend is closed. */
    void release(DeviceMemory m) {
        if (m.freed()) return;
        m.free();
        if (live.remove(m)) memoryInUse.addAndGet(-m.bytes());
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private <T extends DeviceMemory> T track(T m) {
        live.add(m);
        memoryInUse.addAndGet(m.bytes());
        return m;
    }

    /** Caps the attention score scratch (tests use a small cap to exercise the split into several launches). */
    void scoreScratchLimit(long floats) {
        scoreLimit = floats;
    }

    /** The program's context, for tests that build programs of their own. */
    long context() {
        return context;
    }

    ClDevice clDevice() {
        return device;
    }

    long queue() {
        return queue;
    }

    ParamRing params() {
        return params;
    }

    /** A tracked device buffer of {@code bytes}, not zeroed (its user writes it before any kernel reads it). */
    ClBuffer deviceBuffer(long bytes, String what) {
        long mem = createBuffer(bytes, what);
        return track(new ClBuffer(this, mem, bytes / Float.BYTES, bytes));
    }

    /** A blocking read of {@code n} 4-byte words from the start of {@code mem} (ints, or float bits). */
    int[] read(long mem, int n) {
        int[] out = new int[n];
        if (n == 0) return out;
        IntBuffer staging = MemoryUtil.memAllocInt(n);
        try {
            ClErrors.check(clEnqueueReadBuffer(queue, mem, true, 0, staging, null, null),
                    "clEnqueueReadBuffer(" + n + " words)");
            params.drained();
            staging.get(0, out, 0, n);
        } finally {
            MemoryUtil.memFree(staging);
        }
        return out;
    }

    Launch launch(String kernel) {
        dispatches.incrementAndGet();
        return new Launch(queue, program.kernel(kernel));
    }

    /** A launch of a compiled plan's own kernel object, setting arguments from {@code firstArg} on. */
    Launch launch(ClProgram.Kernel kernel, int firstArg) {
        dispatches.incrementAndGet();
        return new Launch(queue, kernel, firstArg);
    }

    ClProgram program() {
        return program;
    }

    private void checkAllocation(long bytes, String what) {
        if (bytes > device.maxAllocation()) {
            throw new IllegalArgumentException(what + ": " + bytes + " bytes exceed the device's "
                    + "CL_DEVICE_MAX_MEM_ALLOC_SIZE of " + device.maxAllocation() + " bytes (" + device.name() + ")");
        }
    }

    private long createBuffer(long bytes, String what) {
        checkAllocation(bytes, what);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long mem = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, err);
            ClErrors.check(err.get(0), "clCreateBuffer(" + what + ", " + bytes + " bytes)");
            return mem;
        }
    }

    /** A read-only memory object holding a copy of {@code values} (ints or float bits), made without touching the queue. */
    private long createFilled(int[] values, String what) {
        checkAllocation((long) values.length * Integer.BYTES, what);
        int[] err = new int[1];
        long mem = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, values, err);
        ClErrors.check(err[0], "clCreateBuffer(" + what + ")");
        return mem;
    }

    private long createZeroed(long bytes, String what) {
        long mem = createBuffer(bytes, what);
        try {
            long words = bytes / Integer.BYTES;
            launch("zero").mem(mem).l(words).run(words);
            return mem;
        } catch (RuntimeException e) {
            clReleaseMemObject(mem);
            throw e;
        }
    }

    void requireOpen() {
        if (closed) throw new IllegalStateException("the opencl backend on " + device.name() + " is closed");
    }

    ClBuffer buffer(Buffer b, String arg) {
        if (!(b instanceof ClBuffer cb) || cb.owner() != this) {
            throw new IllegalArgumentException("argument " + arg + ": " + b + " is not a buffer of this opencl backend");
        }
        if (cb.freed()) throw new IllegalStateException("argument " + arg + ": the " + cb.label() + " is closed");
        return cb;
    }

    ClBuffer buffer(Buffer b, String arg, long needed, String meaning) {
        ClBuffer cb = buffer(b, arg);
        if (cb.floats() < needed) {
            throw new IllegalArgumentException("argument " + arg + ": " + cb.label() + " is too small for " + needed
                    + " floats (" + meaning + ")");
        }
        return cb;
    }

    /** Block-scaled weights are linear layers: only matmul has kernels for them. */
    static void matmulOnly(ClWeight w, String op) {
        if (w.block() != null) {
            throw new IllegalArgumentException(op + ": weight " + w.name() + " has " + w.block() + " scales, which only matmul reads");
        }
    }

    ClWeight weight(Weight w, String arg) {
        if (!(w instanceof ClWeight cw) || cw.owner() != this) {
            throw new IllegalArgumentException("argument " + arg + ": " + w + " is not a weight of this opencl backend");
        }
        if (cw.freed()) throw new IllegalStateException("argument " + arg + ": " + cw.label() + " is closed");
        return cw;
    }

    ClStep step(Step s) {
        if (!(s instanceof ClStep cs) || cs.owner() != this) {
            throw new IllegalArgumentException("argument step: " + s + " is not a step of this opencl backend");
        }
        if (cs.freed()) throw new IllegalStateException("argument step: the " + cs.label() + " is closed");
        return cs;
    }

    ClKvCache cache(KvCache c) {
        if (!(c instanceof ClKvCache cc) || cc.owner() != this) {
            throw new IllegalArgumentException("argument cache: " + c + " is not a KV cache of this opencl backend");
        }
        if (cc.freed()) throw new IllegalStateException("argument cache: the " + cc.label() + " is closed");
        return cc;
    }

    static void checkLayer(String call, int layer, KvLayout layout) {
        if (layer < 0 || layer >= layout.layers()) {
            throw new IllegalArgumentException(call + ": layer " + layer + " is outside [0, " + layout.layers() + ")");
        }
    }

    private static void checkCount(String what, long n) {
        if (n < 0) throw new IllegalArgumentException(what + " must not be negative: " + n);
    }

    private static void checkRange(String what, long capacity, long offset, int n) {
        if (offset < 0 || n < 0 || offset + n > capacity) {
            throw new IllegalArgumentException(what + ": offset " + offset + " + n " + n + " is outside a capacity of "
                    + capacity + " floats");
        }
    }

    private static void checkRows(String call, int[] rows, long limit) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= limit) {
                throw new IllegalArgumentException(call + ": rows[" + i + "] = " + rows[i] + " is outside [0, " + limit + ")");
            }
        }
    }

    private static void noAlias(String call, ClBuffer a, String aName, ClBuffer b, String bName) {
        if (a == b) throw new IllegalArgumentException(call + ": " + bName + " must not alias " + aName);
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
