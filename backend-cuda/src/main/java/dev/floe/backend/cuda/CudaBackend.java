package dev.floe.backend.cuda;

import dev.floe.api.BackendUnavailableException;
import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Capability;
import dev.floe.spi.Communicator;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.KernelArguments;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.MoeCall;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;
import jcuda.Pointer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.floe.backend.cuda.Checks.fits;
import static dev.floe.backend.cuda.Checks.toInt;

/**
 * The CUDA backend: Floe's PTX kernels launched through the JCuda driver API on one stream of one device, device
 * memory from a caching {@link MemoryPool}, and cuBLASLt for prefill GEMMs of BF16 and FP8 weights when the
 * library is present. Index arrays (token ids, positions, slots, block tables) go to the device per call through
 * a pinned staging ring, asynchronously in stream order.
 */
final class CudaBackend implements Backend {
    /** No {@code COLLECTIVES} yet: the NCCL communicator exists, but the SPI offers no way to obtain it. */
    static final Set<Capability> CAPABILITIES = Set.of(Capability.WEIGHTS_F32, Capability.WEIGHTS_F16,
            Capability.WEIGHTS_BF16, Capability.WEIGHTS_FP8_E4M3, Capability.WEIGHTS_FP8_E5M2, Capability.WEIGHTS_BLOCK_SCALES,
            Capability.DEVICE_MEMORY, Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.DISPATCH_COUNTER,
            Capability.PLANS);
    /** Bytes the pool keeps cached for reuse. */
    static final long CACHE_LIMIT = 1L << 30;
    static final long WORKSPACE_BYTES = 32L << 20;
    /** Host-to-device copies of weights go in pieces of this size (ByteBuffers are int-indexed). */
    static final long UPLOAD_CHUNK = 1L << 30;

    private final CaptureGuard ctx;
    private final MemoryPool pool;
    private final boolean graphs;
    /** Compiled plans not yet closed: closing the backend frees their graphs first. */
    private final List<CudaGraphPlan> plans = new ArrayList<>();
    /** The memory of the graph whose plan is being sized, captured or refreshed; null when running eagerly. */
    private GraphMemory graph;
    private final CublasLt cublasLt;
    private final String cublasLtStatus;
    private long workspace;
    private long dispatches;
    private boolean closed;

    /** The backend option choosing the prefill GEMM: our kernels ({@code kernels}, default) or {@code cublaslt}. */
    static final String PREFILL_PROPERTY = "cuda.prefill";
    /** The backend option (or system property) turning CUDA graphs off: {@code cuda.graphs=false}. */
    static final String GRAPHS_PROPERTY = "cuda.graphs";

    CudaBackend(Device ctx, boolean cublas) {
        this(ctx, cublas, true);
    }

    /**
     * @param ctx      the device context, current on this thread
     * @param cublas   use cuBLASLt for prefill GEMMs of BF16 and FP8 E4M3 weights (activations are then rounded to
     *                 BF16, or quantised per tensor to E4M3, before the GEMM) when the library is present
     * @param graphs   compile plans into CUDA graphs ({@link Capability#PLANS}); without, the runtime interprets them
     */
    CudaBackend(Device ctx, boolean cublas, boolean graphs) {
        this.ctx = new CaptureGuard(ctx);
        this.graphs = graphs;
        this.pool = new MemoryPool(this.ctx, CACHE_LIMIT);
        CublasLt lt = null;
        String status;
        if (!cublas) {
            status = PREFILL_PROPERTY + "=kernels";
        } else {
            switch (CublasLt.lookup()) {
                case CublasLt.Available a -> {
                    try {
                        lt = new CublasLt(a.library());
                        status = lt.describe();
                    } catch (RuntimeException e) {
                        status = "cuBLASLt unavailable: " + e.getMessage();
                    }
                }
                case CublasLt.Unavailable u -> status = u.reason();
            }
        }
        this.cublasLt = lt;
        this.cublasLtStatus = status;
    }

    /** Reads {@value #PREFILL_PROPERTY}: true for {@code cublaslt}, false for {@code kernels} or unset. */
    static boolean cublasRequested(String value) {
        if (value == null || value.isBlank() || value.strip().equals("kernels")) return false;
        if (value.strip().equals("cublaslt")) return true;
        throw new IllegalArgumentException(PREFILL_PROPERTY + "=" + value + " (expected kernels or cublaslt)");
    }

    /** Reads {@value #GRAPHS_PROPERTY}: true unless {@code false}. */
    static boolean graphsRequested(String value) {
        if (value == null || value.isBlank() || value.strip().equals("true")) return true;
        if (value.strip().equals("false")) return false;
        throw new IllegalArgumentException(GRAPHS_PROPERTY + "=" + value + " (expected true or false)");
    }

    @Override
    public String name() {
        return CudaProvider.NAME;
    }

    @Override
    public String device() {
        return ctx.info().describe() + "; prefill GEMM: " + (cublasLt != null ? cublasLtStatus : "own kernels (" + cublasLtStatus + ")")
                + "; plans: " + (graphs ? "CUDA graphs" : "interpreted (" + GRAPHS_PROPERTY + "=false)");
    }

    @Override
    public Set<Capability> capabilities() {
        if (graphs) return CAPABILITIES;
        Set<Capability> some = new java.util.HashSet<>(CAPABILITIES);
        some.remove(Capability.PLANS);
        return Set.copyOf(some);
    }

    /** The device itself, unguarded (the micro-benchmark's copies, NCCL's stream). */
    Device context() {
        return ctx.device();
    }

    // ---- memory

    private void open() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        ctx.makeCurrent();
    }

    void release(long address) {
        if (!closed) pool.release(address);
    }

    @Override
    public Buffer allocate(long floats) {
        open();
        if (floats < 0) throw new IllegalArgumentException("floats=" + floats + " is negative");
        long address = pool.allocate(Math.max(1, floats) * Float.BYTES);
        ctx.zero(address, Math.max(1, floats));
        return new CudaBuffer(this, address, floats);
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n) {
        open();
        CudaBuffer d = buffer("dst", dst);
        if (srcOffset < 0 || n < 0 || srcOffset + (long) n > src.length) {
            throw new IllegalArgumentException("src range [" + srcOffset + ", " + (srcOffset + (long) n) + ") outside "
                    + src.length + " floats");
        }
        if (dstOffset < 0) throw new IllegalArgumentException("dstOffset=" + dstOffset + " is negative");
        fits("dst", dst, dstOffset + n);
        if (n == 0) return;
        ctx.upload(Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), d.address(), dstOffset * Float.BYTES,
                (long) n * Float.BYTES);
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n) {
        open();
        CudaBuffer s = buffer("src", src);
        if (dstOffset < 0 || n < 0 || dstOffset + (long) n > dst.length) {
            throw new IllegalArgumentException("dst range [" + dstOffset + ", " + (dstOffset + (long) n) + ") outside "
                    + dst.length + " floats");
        }
        if (srcOffset < 0) throw new IllegalArgumentException("srcOffset=" + srcOffset + " is negative");
        fits("src", src, srcOffset + n);
        if (n == 0) return;
        ctx.download(s.address(), srcOffset * Float.BYTES, Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES),
                (long) n * Float.BYTES);
    }

    @Override
    public Weight weight(TensorData tensor) {
        return weight(tensor, (ScaleLayout.Block) null, false);
    }

    /** Tensor and channel scales as {@link #weight(TensorData)}; a block grid goes to the *_block_fp8 kernels. */
    @Override
    public Weight weight(TensorData tensor, ScaleLayout layout) {
        return weight(tensor, layout instanceof ScaleLayout.Block b ? b : null, true);
    }

    private Weight weight(TensorData tensor, ScaleLayout.Block blockSize, boolean blocksAllowed) {
        open();
        if (!tensor.dtype().isFloat()) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": dtype " + tensor.dtype() + " is not a weight dtype");
        }
        ScaleLayout layout = ScaleLayout.of(tensor, blocksAllowed ? blockSize : null);
        ScaleLayout.Block block = layout instanceof ScaleLayout.Block b ? b : null;
        if (block != null && tensor.dtype() != DType.F8_E4M3 && tensor.dtype() != DType.F8_E5M2) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": block scales need an FP8 dtype, not " + tensor.dtype());
        }
        if (tensor.shape().length > 2 || tensor.rows() * tensor.cols() != tensor.numel()) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": shape " + Arrays.toString(tensor.shape())
                    + " is not a matrix or vector");
        }
        long bytes = tensor.data().byteSize();
        long data = pool.allocate(Math.max(bytes, 1));
        long scale = 0;
        int stride = 0;
        try {
            copyIn(tensor.data(), data);
            if (tensor.scale() != null) {
                float[] s = FloatFormats.toFloats(tensor.scale(), null);
                stride = s.length == 1 ? 0 : 1;
                scale = pool.allocate((long) s.length * Float.BYTES);
                ctx.upload(Pointer.to(s), scale, 0, (long) s.length * Float.BYTES);
            }
        } catch (RuntimeException e) {
            pool.release(data);
            if (scale != 0) pool.release(scale);
            throw e;
        }
        long total = bytes + (tensor.scale() == null ? 0 : tensor.scale().numel() * Float.BYTES);
        return new CudaWeight(this, tensor.name(), tensor.dtype(), tensor.rows(), tensor.cols(), data, scale, stride, block, total);
    }

    private void copyIn(MemorySegment segment, long address) {
        for (long off = 0; off < segment.byteSize(); off += UPLOAD_CHUNK) {
            long len = Math.min(UPLOAD_CHUNK, segment.byteSize() - off);
            MemorySegment piece = segment.asSlice(off, len);
            Pointer host = piece.isNative() ? Pointer.to(piece.asByteBuffer()) : Pointer.to(piece.toArray(ValueLayout.JAVA_BYTE));
            ctx.upload(host, address, off, len);
        }
    }

    @Override
    public KvCache kvCache(KvLayout layout) {
        open();
        long address = pool.allocate(layout.byteSize());
        ctx.zero(address, layout.byteSize() / Float.BYTES);
        return new CudaKvCache(this, layout, address);
    }

    @Override
    public long memoryInUse() {
        return pool.inUse();
    }

    // ---- kernels

    @Override
    public void embed(Weight table, int[] ids, Buffer out) {
        open();
        CudaWeight t = weight("table", table);
        matmulOnly(t, "embed");
        int cols = toInt("table.cols", t.cols());
        KernelArguments.tokenIds("embed", ids, t.rows(), t.name());
        fits("out", out, (long) ids.length * cols);
        if (ids.length == 0) return;
        long idsDev = stage(ids);
        try {
            launch(Kernel.EMBED, t.format(), Launch.rowsByColumns(ids.length, cols),
                    new KernelArgs().ptr(t.data()).ptr(t.scale()).i32(t.scaleStride()).ptr(idsDev).i32(cols)
                            .ptr(buffer("out", out).address()));
        } finally {
            releaseScratch(idsDev);
        }
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) {
        open();
        CudaWeight wt = weight("w", w);
        matmulOnly(wt, "rmsNorm");
        Checks.positive("dim", dim);
        if (wt.rows() * wt.cols() != dim) {
            throw new IllegalArgumentException("weight " + wt.name() + " has " + wt.rows() * wt.cols() + " elements, dim=" + dim);
        }
        if (rows < 0) throw new IllegalArgumentException("rows=" + rows + " is negative");
        fits("x", x, (long) rows * dim);
        fits("out", out, (long) rows * dim);
        if (rows == 0) return;
        launch(Kernel.RMS_NORM, wt.format(), Launch.perRow(rows),
                new KernelArgs().ptr(buffer("x", x).address()).ptr(wt.data()).ptr(wt.scale()).f32(eps).i32(dim)
                        .ptr(buffer("out", out).address()));
    }

    @Override
    public void matmul(Buffer x, int rows, Weight w, Buffer out) {
        open();
        CudaWeight wt = weight("w", w);
        int cols = toInt("w.cols", wt.cols());
        int outRows = toInt("w.rows", wt.rows());
        if (rows < 0) throw new IllegalArgumentException("rows=" + rows + " is negative");
        fits("x", x, (long) rows * cols);
        fits("out", out, (long) rows * outRows);
        if (rows == 0) return;
        matmul(buffer("x", x).address(), rows, wt, buffer("out", out).address());
    }

    /** {@code out = x W^T} between device addresses, arguments already checked. */
    void matmul(long xa, int rows, CudaWeight wt, long oa) {
        int cols = toInt("w.cols", wt.cols());
        int outRows = toInt("w.rows", wt.rows());
        if (wt.block() != null) {
            launch(Kernel.MATMUL_BLOCK, null, Launch.matvec(outRows, rows), new KernelArgs().ptr(xa).i32(rows)
                    .ptr(wt.data()).ptr(wt.scale()).i32(e5m2(wt)).i32(wt.block().rows()).i32(wt.block().cols())
                    .ptr(oa).i32(outRows).i32(cols));
            return;
        }
        if (rows > Launch.MATVEC_MAX_ROWS && cublasLt != null && prefillGemm(xa, rows, wt, oa)) return;
        Kernel k = rows <= Launch.MATVEC_MAX_ROWS ? Kernel.MATVEC : Kernel.GEMM;
        Launch l = k == Kernel.MATVEC ? Launch.matvec(outRows, rows) : Launch.gemm(outRows, rows);
        launch(k, wt.format(), l, new KernelArgs().ptr(xa).i32(rows).ptr(wt.data())
                .ptr(wt.scale()).i32(wt.scaleStride()).ptr(oa).i32(outRows).i32(cols));
    }

    /** The cuBLASLt path for BF16 and FP8 E4M3 weights; false when the problem does not qualify. */
    private boolean prefillGemm(long x, int rows, CudaWeight w, long out) {
        int n = (int) w.rows(), k = (int) w.cols();
        int input = switch (w.format()) {
            case BF16 -> GemmPlan.CUDA_R_16BF;
            case E4M3 -> GemmPlan.CUDA_R_8F_E4M3;
            default -> -1;
        };
        if (input < 0) return false;
        GemmPlan plan = GemmPlan.rowMajor(rows, n, k, input, GemmPlan.CUDA_R_32F);
        if (plan.unsupported().isPresent()) return false;
        long elements = (long) rows * k;
        List<Long> scratch = new ArrayList<>();
        try {
            long activations = take(scratch, elements * GemmPlan.bytes(input));
            long weightScale = 0, activationScale = 0;
            if (w.format() == WeightFormat.BF16) {
                launch(Kernel.F32_TO_BF16, null, Launch.elements(elements),
                        new KernelArgs().ptr(x).i64(elements).ptr(activations));
            } else {
                long amax = take(scratch, 4);
                activationScale = take(scratch, 4);
                ctx.zero(amax, 1);
                launch(Kernel.ABS_MAX, null, new Launch(Math.min(1024,
                        (int) Math.ceilDiv(elements, Launch.THREADS)), 1, 1, Launch.THREADS),
                        new KernelArgs().ptr(x).i64(elements).ptr(amax));
                launch(Kernel.QUANTIZE_E4M3, null, Launch.elements(elements),
                        new KernelArgs().ptr(x).i64(elements).ptr(amax).ptr(activations).ptr(activationScale));
                if (w.scaleStride() == 0) weightScale = w.scale();
            }
            if (workspace == 0) workspace = pool.allocate(WORKSPACE_BYTES);
            dispatches++;
            cublasLt.matmul(List.of(new CublasLt.Problem(plan, w.data(), activations, out, weightScale, activationScale)),
                    workspace, WORKSPACE_BYTES, ctx.streamHandle());
            boolean scaleAfter = w.scale() != 0 && (w.format() == WeightFormat.BF16 || w.scaleStride() == 1);
            if (scaleAfter) {
                launch(Kernel.SCALE_COLUMNS, null, Launch.elements((long) rows * n),
                        new KernelArgs().ptr(out).i32(rows).i32(n).ptr(w.scale()).i32(w.scaleStride()));
            }
            return true;
        } finally {
            for (long a : scratch) pool.release(a);
        }
    }

    private long take(List<Long> scratch, long bytes) {
        long a = pool.allocate(bytes);
        scratch.add(a);
        return a;
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) {
        open();
        Checks.positive("heads", heads);
        Checks.positive("headDim", headDim);
        if (headDim % 2 != 0) throw new IllegalArgumentException("headDim=" + headDim + " must be even for rotate-half RoPE");
        if (rows < 0 || positions.length < rows) {
            throw new IllegalArgumentException("rows=" + rows + " with " + positions.length + " positions");
        }
        fits("x", x, (long) rows * heads * headDim);
        if (rows == 0) return;
        long pos = stage(Arrays.copyOf(positions, rows));
        try {
            launch(Kernel.ROPE, null, Launch.elements((long) rows * heads * (headDim / 2)),
                    new KernelArgs().ptr(buffer("x", x).address()).i32(rows).i32(heads).i32(headDim).ptr(pos).f32(theta));
        } finally {
            releaseScratch(pos);
        }
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
        open();
        CudaKvCache c = cache("cache", cache);
        if (rows < 0 || slots.length < rows) throw new IllegalArgumentException("rows=" + rows + " with " + slots.length + " slots");
        int[] used = Arrays.copyOf(slots, rows);
        if (!storeKvChecked(c, layer, k, v, used)) return;
        long slotDev = stage(used);
        try {
            storeKvLaunch(c, layer, k, v, rows, slotDev);
        } finally {
            releaseScratch(slotDev);
        }
    }

    /** Validates a KV store of {@code slots.length} rows; false when there is nothing to store. */
    private boolean storeKvChecked(CudaKvCache c, int layer, Buffer k, Buffer v, int[] slots) {
        KvLayout layout = c.layout();
        KernelArguments.slots("storeKv", slots, slots.length, layout);
        fits("k", k, (long) slots.length * layout.rowWidth());
        fits("v", v, (long) slots.length * layout.rowWidth());
        c.keys(layer);
        return slots.length > 0;
    }

    private void storeKvLaunch(CudaKvCache c, int layer, Buffer k, Buffer v, int rows, long slots) {
        int width = c.layout().rowWidth();
        launch(Kernel.STORE_KV, null, Launch.elements((long) rows * width),
                new KernelArgs().ptr(c.keys(layer)).ptr(c.values(layer)).ptr(buffer("k", k).address())
                        .ptr(buffer("v", v).address()).i32(rows).i32(width).ptr(slots));
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
        open();
        CudaKvCache c = cache("cache", cache);
        KvLayout layout = c.layout();
        AttentionPlan plan = AttentionPlan.of(batch, layout);
        long width = (long) plan.heads() * layout.headDim();
        fits("q", q, plan.rows() * width);
        fits("out", out, plan.rows() * width);
        long kp = c.keys(layer), vp = c.values(layer);
        if (plan.rows() == 0) return;
        long pos = stage(plan.positions()), seq = stage(plan.sequence()), tables = stage(plan.tables());
        try {
            pagedAttention(plan, layout, buffer("q", q).address(), kp, vp, pos, seq, tables, plan.maxBlocks(),
                    plan.maxPosition() + 1, buffer("out", out).address());
        } finally {
            releaseScratch(pos);
            releaseScratch(seq);
            releaseScratch(tables);
        }
    }

    /**
     * The attention launches over device-side positions, sequence indices and block tables {@code width} blocks
     * wide, the key range cut into splits as for {@code keys} keys.
     */
    private void pagedAttention(AttentionPlan plan, KvLayout layout, long q, long kp, long vp, long pos, long seq,
                                long tables, int width, int keys, long out) {
        int splits = plan.splits(ctx.info().smCount(), keys);
        int hd = layout.headDim();
        long partial = splits == 1 ? 0 : scratch((long) plan.rows() * plan.heads() * splits * (hd + 2) * Float.BYTES);
        try {
            launch(Kernel.PAGED_ATTENTION, null, Launch.attention(plan.rows(), plan.heads(), splits),
                    new KernelArgs().ptr(q).ptr(kp).ptr(vp).ptr(pos).ptr(seq).ptr(tables)
                            .i32(width).i32(layout.blockSize()).i32(plan.heads()).i32(layout.kvHeads())
                            .i32(hd).f32((float) (1.0 / Math.sqrt(hd))).i32(AttentionPlan.chunk(splits, keys)).ptr(partial).ptr(out));
            if (splits > 1) {
                launch(Kernel.ATTENTION_COMBINE, null, Launch.attention(plan.rows(), plan.heads(), 1), new KernelArgs()
                        .ptr(partial).i32(plan.rows()).i32(plan.heads()).i32(hd).i32(splits).ptr(out));
            }
        } finally {
            if (partial != 0) releaseScratch(partial);
        }
    }

    @Override
    public void swiglu(Buffer gate, Buffer up, long n, Buffer out) {
        elementwise(Kernel.SWIGLU, "gate", gate, "up", up, n, out);
    }

    @Override
    public void add(Buffer a, Buffer b, long n, Buffer out) {
        elementwise(Kernel.ADD, "a", a, "b", b, n, out);
    }

    private void elementwise(Kernel kernel, String an, Buffer a, String bn, Buffer b, long n, Buffer out) {
        open();
        if (n < 0) throw new IllegalArgumentException("n=" + n + " is negative");
        fits(an, a, n);
        fits(bn, b, n);
        fits("out", out, n);
        if (n == 0) return;
        launch(kernel, null, Launch.elements(n), new KernelArgs()
                .ptr(buffer(an, a).address()).ptr(buffer(bn, b).address()).i64(n).ptr(buffer("out", out).address()));
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) {
        open();
        Checks.positive("cols", cols);
        Checks.indices("rows", rows, src.floats() / cols, "of src rows");
        fits("dst", dst, (long) rows.length * cols);
        if (rows.length == 0) return;
        long r = stage(rows);
        try {
            launch(Kernel.GATHER_ROWS, null, Launch.rowsByColumns(rows.length, cols),
                    new KernelArgs().ptr(buffer("src", src).address()).i32(cols).ptr(r).ptr(buffer("dst", dst).address()));
        } finally {
            releaseScratch(r);
        }
    }

    @Override
    public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) {
        open();
        Checks.positive("cols", cols);
        if (scales.length != rows.length) {
            throw new IllegalArgumentException(rows.length + " rows but " + scales.length + " scales");
        }
        Checks.indices("rows", rows, dst.floats() / cols, "of dst rows");
        fits("src", src, (long) rows.length * cols);
        if (rows.length == 0) return;
        long r = stage(rows), s = stage(scales);
        try {
            launch(Kernel.SCATTER_ADD_ROWS, null, Launch.elements(cols),
                    new KernelArgs().ptr(buffer("src", src).address()).i32(cols).ptr(r).ptr(s).i32(rows.length)
                            .ptr(buffer("dst", dst).address()));
        } finally {
            releaseScratch(r);
            releaseScratch(s);
        }
    }

    /**
     * Joins an NCCL group as {@code rank} of {@code size} (one process per GPU), the unique id travelling through
     * {@code rendezvous}. Throws {@link BackendUnavailableException} when NCCL is not installed.
     */
    Communicator communicator(int rank, int size, byte[] uniqueId) {
        open();
        return switch (Nccl.lookup()) {
            case Nccl.Available a -> NcclCommunicator.join(a.nccl(), this, rank, size, uniqueId);
            case Nccl.Unavailable u -> throw new BackendUnavailableException(u.reason());
        };
    }

    Communicator communicator(int rank, int size, NcclRendezvous rendezvous) {
        open();
        return switch (Nccl.lookup()) {
            case Nccl.Available a -> NcclCommunicator.join(a.nccl(), this, rank, size, rendezvous);
            case Nccl.Unavailable u -> throw new BackendUnavailableException(u.reason());
        };
    }

    // ---- SPI 2

    /** One pool block for the whole step, filled by one host-to-device copy in stream order when first used. */
    @Override
    public Step step(StepMetadata metadata) {
        open();
        return CudaStep.of(this, metadata);
    }

    /** The pool block of a step and its one staged copy. */
    long placeStep(StepMetadata metadata) {
        open();
        int[] packed = CudaStep.pack(metadata);
        long a = pool.allocate(4L * packed.length);
        ctx.stage(packed, null, a);
        return a;
    }

    @Override
    public void embed(Weight table, Step step, Buffer out) {
        open();
        CudaStep s = step("step", step);
        CudaWeight t = weight("table", table);
        matmulOnly(t, "embed");
        int cols = toInt("table.cols", t.cols());
        KernelArguments.tokenIds("embed", s.metadata().tokens(), t.rows(), t.name());
        fits("out", out, (long) s.rows() * cols);
        if (s.rows() == 0) return;
        launch(Kernel.EMBED, t.format(), Launch.rowsByColumns(s.rows(), cols),
                new KernelArgs().ptr(t.data()).ptr(t.scale()).i32(t.scaleStride()).ptr(s.tokens()).i32(cols)
                        .ptr(buffer("out", out).address()));
    }

    @Override
    public void rope(Buffer x, int heads, Step step) {
        open();
        CudaStep s = step("step", step);
        Checks.positive("heads", heads);
        int headDim = s.metadata().headDim();
        fits("x", x, (long) s.rows() * heads * headDim);
        if (s.rows() == 0) return;
        launch(Kernel.ROPE_TABLE, null, Launch.elements((long) s.rows() * heads * (headDim / 2)),
                new KernelArgs().ptr(buffer("x", x).address()).i32(s.rows()).i32(heads).i32(headDim).ptr(s.cos())
                        .ptr(s.sin()));
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, Step step) {
        open();
        CudaStep s = step("step", step);
        CudaKvCache c = cache("cache", cache);
        if (storeKvChecked(c, layer, k, v, s.metadata().slots())) storeKvLaunch(c, layer, k, v, s.rows(), s.slots());
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, Step step, Buffer out) {
        open();
        CudaStep s = step("step", step);
        CudaKvCache c = cache("cache", cache);
        KvLayout layout = c.layout();
        AttentionPlan plan = AttentionPlan.of(s.metadata().attentionBatch(), layout);
        long width = (long) plan.heads() * layout.headDim();
        fits("q", q, plan.rows() * width);
        fits("out", out, plan.rows() * width);
        long kp = c.keys(layer), vp = c.values(layer);
        if (plan.rows() == 0) return;
        pagedAttention(plan, layout, buffer("q", q).address(), kp, vp, s.positions(), s.sequence(), s.tables(),
                s.maxBlocks(), s.keys(layout.blockSize()), buffer("out", out).address());
    }

    @Override
    public void moe(MoeCall call) {
        open();
        CudaMoe.run(this, call);
    }

    /**
     * A plan compiled into CUDA graphs, captured lazily, one per row count and block-table width
     * ({@link CudaGraphPlan}).
     */
    @Override
    public CudaGraphPlan compile(dev.floe.spi.Plan plan) {
        open();
        if (!graphs) throw new UnsupportedOperationException("CUDA graphs are off (" + GRAPHS_PROPERTY + "=false)");
        CudaGraphPlan compiled = new CudaGraphPlan(this, plan);
        plans.add(compiled);
        return compiled;
    }

    void closed(CudaGraphPlan plan) {
        plans.remove(plan);
    }

    /** Counts a graph launch as one dispatch. */
    void launchGraph(long exec) {
        dispatches++;
        ctx.launchGraph(exec);
    }

    @Override
    public long dispatches() {
        return dispatches;
    }

    @Override
    public void synchronize() {
        open();
        ctx.synchronize();
    }

    @Override
    public void close() {
        if (closed) return;
        ctx.makeCurrent();
        try {
            for (CudaGraphPlan p : List.copyOf(plans)) p.close();
            ctx.synchronize();
        } finally {
            closed = true;
            if (cublasLt != null) cublasLt.close();
            pool.close();
            ctx.close();
        }
    }

    // ---- helpers

    /** Launches the variant of {@code kernel} for {@code format} (null: its single entry), checking the arguments. */
    void launch(Kernel kernel, WeightFormat format, Launch launch, KernelArgs args) {
        String entry = format == null ? kernel.entry() : kernel.entry(format);
        if (!args.signature().equals(kernel.signature())) {
            throw new IllegalStateException("arguments (" + args.signature() + ") do not match " + entry + "("
                    + kernel.signature() + ")");
        }
        if (graph != null) {
            // sizing and refreshing a graph run the host side only; a capture records the launch into the graph
            if (graph.launches()) ctx.launch(kernel, entry, launch, args);
            return;
        }
        dispatches++;
        ctx.launch(kernel, entry, launch, args);
    }

    /**
     * Copies a small index array to a pool block, asynchronously in stream order. The block may be released as
     * soon as the kernel reading it is launched: whatever reuses it next is also in stream order.
     */
    long stage(int[] values) {
        if (graph != null) return graph.stage(values, null);
        long a = pool.allocate(Math.max(4L, (long) values.length * 4));
        ctx.stage(values, null, a);
        return a;
    }

    long stage(float[] values) {
        if (graph != null) return graph.stage(null, values);
        long a = pool.allocate(Math.max(4L, (long) values.length * 4));
        ctx.stage(null, values, a);
        return a;
    }

    /** Scratch for one operation, released by {@link #releaseScratch} in stream order; a graph's own while sizing one. */
    long scratch(long bytes) {
        return graph != null ? graph.take(bytes) : pool.allocate(bytes);
    }

    /** Releases {@link #scratch} or a {@link #stage}d block. */
    void releaseScratch(long address) {
        if (graph != null) graph.release(address);
        else pool.release(address);
    }

    /** Notes an expert weight a staged pointer table points at (a graph checks before each launch that it lives). */
    void reads(CudaWeight w) {
        if (graph != null) graph.reads(w);
    }

    /** Runs the host side of {@code body} against a graph's memory in {@code phase}. */
    void inGraph(GraphMemory memory, GraphMemory.Phase phase, Runnable body) {
        if (graph != null) throw new IllegalStateException("a graph is already being prepared");
        graph = memory;
        memory.begin(phase);
        try {
            body.run();
        } finally {
            graph = null;
        }
        memory.end();
    }

    /** The guarded device, which refuses host-synchronous calls while a graph is captured. */
    CaptureGuard guarded() {
        return ctx;
    }

    boolean isClosed() {
        return closed;
    }

    MemoryPool pool() {
        return pool;
    }

    CudaBuffer buffer(String argument, Buffer b) {
        if (!(b instanceof CudaBuffer cb) || cb.owner() != this) {
            throw new IllegalArgumentException(argument + " is not a buffer of this CUDA backend: " + b);
        }
        return cb;
    }

    /** The {@code e5m2} argument of the *_block_fp8 kernels. */
    static int e5m2(CudaWeight w) {
        return w.dtype() == DType.F8_E5M2 ? 1 : 0;
    }

    /** Block-scaled weights are linear layers: only matmul and the fused MoE read them. */
    private static void matmulOnly(CudaWeight w, String op) {
        if (w.block() != null) {
            throw new IllegalArgumentException(op + ": weight " + w.name() + " has " + w.block() + " scales, which only matmul reads");
        }
    }

    CudaWeight weight(String argument, Weight w) {
        if (!(w instanceof CudaWeight cw) || cw.owner() != this) {
            throw new IllegalArgumentException(argument + " is not a weight of this CUDA backend: " + w);
        }
        if (cw.dtype() == DType.I32 || cw.dtype() == DType.I64) throw new IllegalArgumentException(argument + " is not a float weight");
        return cw;
    }

    CudaStep step(String argument, Step s) {
        if (!(s instanceof CudaStep cs) || cs.owner() != this) {
            throw new IllegalArgumentException(argument + " is not a step of this CUDA backend: " + s);
        }
        return cs;
    }

    private CudaKvCache cache(String argument, KvCache c) {
        if (!(c instanceof CudaKvCache cc) || cc.owner() != this) {
            throw new IllegalArgumentException(argument + " is not a KV cache of this CUDA backend: " + c);
        }
        return cc;
    }
}
