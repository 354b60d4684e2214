package dev.floe.backend.cpu;

import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KernelArguments;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.MoeCall;
import dev.floe.spi.Plan;
import dev.floe.spi.RopeTable;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code cpu-vector} backend: float32 activations in heap arrays ({@link HeapBuffer}), weights read in place from
 * their (memory-mapped) segments ({@link CpuWeight}), Vector API kernels spread over a dedicated {@link WorkerPool}.
 * Kernels run synchronously on the calling thread and the pool, so {@link #synchronize} has nothing to wait for.
 */
final class CpuVectorBackend implements Backend {
    private static final VectorSpecies<Float> FS = Matmul.FS;
    private static final int VL = Matmul.VL;
    /** Below this many multiply-adds a kernel runs on the calling thread alone. */
    private static final long MIN_PARALLEL_WORK = 1L << 17;
    /**
     * Below this many elements an element-wise kernel (norms, RoPE, SwiGLU, adds, the MoE's packing and weighted sum)
     * runs on the calling thread alone: a decode step's rows stay there, a prompt's are shared out.
     */
    private static final long MIN_PARALLEL_ELEMENTS = 1L << 16;

    private final WorkerPool pool;
    private final String device;
    private final AtomicLong bytesInUse = new AtomicLong();
    private final Set<AutoCloseable> live = ConcurrentHashMap.newKeySet();
    private float[] scratch = new float[0];
    /** Step timings of compiled plans, or null (the default). */
    private volatile StepProfile profile;
    private volatile boolean closed;

    CpuVectorBackend(int threads) {
        this.pool = new WorkerPool(threads, "floe-cpu-vector");
        this.device = VectorSupport.describe(threads);
    }

    @Override public String name() { return CpuVectorProvider.NAME; }
    @Override public String device() { return device; }
    @Override public Set<Capability> capabilities() { return CpuVectorProvider.CAPABILITIES; }

    int threads() {
        return pool.threads();
    }

    /** Times every compiled plan's steps from now on; the table goes to standard error when the backend closes. */
    void profile(StepProfile p) {
        profile = p;
    }

    /** The step profile, or null when plans are not timed. */
    StepProfile profile() {
        return profile;
    }

    // ---- memory

    @Override
    public Buffer allocate(long floats) {
        open();
        if (floats < 0 || floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("floats: " + floats + " is outside [0, " + (Integer.MAX_VALUE - 8) + "]");
        }
        HeapBuffer b = new HeapBuffer((int) floats, this);
        live.add(b);
        bytesInUse.addAndGet(floats * Float.BYTES);
        return b;
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n) {
        float[] d = array(dst, "dst");
        range("src", src.length, srcOffset, n);
        range("dst", d.length, dstOffset, n);
        System.arraycopy(src, srcOffset, d, (int) dstOffset, n);
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n) {
        float[] s = array(src, "src");
        range("src", s.length, srcOffset, n);
        range("dst", dst.length, dstOffset, n);
        System.arraycopy(s, (int) srcOffset, dst, dstOffset, n);
    }

    @Override
    public Weight weight(TensorData tensor) {
        open();
        return new CpuWeight(tensor);
    }

    /** Tensor, channel and block scales alike: the kernels apply a block's scale per block of columns. */
    @Override
    public Weight weight(TensorData tensor, ScaleLayout layout) {
        open();
        return new CpuWeight(tensor, layout);
    }

    @Override
    public KvCache kvCache(KvLayout layout) {
        open();
        PagedKvCache c = new PagedKvCache(layout, this);
        live.add(c);
        bytesInUse.addAndGet(layout.byteSize());
        return c;
    }

    @Override
    public double measureBandwidth() {
        return MemoryBandwidth.measure(pool.threads());
    }

    @Override
    public double measureMultiplyAddRate() {
        return MultiplyAddPeak.measure(pool.threads());
    }

    @Override
    public long memoryInUse() {
        return bytesInUse.get();
    }

    void released(AutoCloseable resource, long bytes) {
        if (live.remove(resource)) bytesInUse.addAndGet(-bytes);
    }

    // ---- kernels

    @Override
    public void embed(Weight table, int[] ids, Buffer out) {
        embedRows(weight(table, "table"), ids, array(out, "out"));
    }

    @Override
    public void embed(Weight table, Step step, Buffer out) {
        embedRows(weight(table, "table"), step(step).tokens(), array(out, "out"));
    }

    private void embedRows(CpuWeight t, int[] ids, float[] o) {
        int cols = (int) t.cols();
        need("out", o, (long) ids.length * cols);
        KernelArguments.tokenIds("embed", ids, t.rows(), t.name());
        for (int r = 0; r < ids.length; r++) t.row(ids[r], 1f, o, r * cols);
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) {
        float[] xs = array(x, "x");
        CpuWeight cw = weight(w, "w");
        float[] o = array(out, "out");
        positive("dim", dim);
        nonNegative("rows", rows);
        if (cw.rows() * cw.cols() != dim) {
            throw new IllegalArgumentException("w: " + cw.name() + " holds " + cw.rows() * cw.cols() + " values, dim is " + dim);
        }
        need("x", xs, (long) rows * dim);
        need("out", o, (long) rows * dim);
        float[] wv = cw.decodedVector();
        ranges(rows, dim, 1, (r0, r1) -> rmsNormRows(xs, wv, eps, r0, r1, dim, o));
    }

    private static void rmsNormRows(float[] xs, float[] wv, float eps, int r0, int r1, int dim, float[] o) {
        int full = FS.loopBound(dim);
        for (int r = r0; r < r1; r++) {
            int base = r * dim;
            FloatVector acc = FloatVector.zero(FS);
            int i = 0;
            for (; i < full; i += VL) {
                FloatVector v = FloatVector.fromArray(FS, xs, base + i);
                acc = v.fma(v, acc);
            }
            float ss = Lanes.sum(acc);
            for (; i < dim; i++) ss += xs[base + i] * xs[base + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            i = 0;
            for (; i < full; i += VL) {
                FloatVector.fromArray(FS, xs, base + i).mul(inv).mul(FloatVector.fromArray(FS, wv, i)).intoArray(o, base + i);
            }
            for (; i < dim; i++) o[base + i] = xs[base + i] * inv * wv[i];
        }
    }

    @Override
    public void matmul(Buffer x, int rows, Weight w, Buffer out) {
        float[] xs = array(x, "x");
        CpuWeight cw = weight(w, "w");
        float[] o = array(out, "out");
        nonNegative("rows", rows);
        if (cw.rows() > Integer.MAX_VALUE) throw new IllegalArgumentException("w: " + cw.name() + " has too many rows");
        need("x", xs, (long) rows * cw.cols());
        need("out", o, (long) rows * cw.rows());
        matmul(xs, rows, cw, o);
    }

    /** {@code o = xs W^T} for {@code rows} rows, checked by the caller: one pool job at most. */
    void matmul(float[] xs, int rows, CpuWeight cw, float[] o) {
        int cols = (int) cw.cols();
        int outRows = (int) cw.rows();
        if (rows == 0 || outRows == 0) return;
        cw.scan(pool);
        if (rows >= Gemm.minRows) {
            Gemm.multiply(pool, cw, xs, 0, rows, o, 0);
            return;
        }
        float[] xp = permuted(xs, rows, cols, Matmul.lanes(cw.dtype()));
        long work = (long) outRows * cols * Math.max(1, rows / 4);
        int tasks = work < MIN_PARALLEL_WORK ? 1 : Math.max(1, Math.min(pool.threads() * 8, outRows / 16));
        if (tasks == 1) {
            Matmul.rows(cw, xp, rows, 0, outRows, o);
            return;
        }
        int per = (outRows + tasks - 1) / tasks;
        pool.run(tasks, t -> {
            int o0 = t * per;
            int o1 = Math.min(outRows, o0 + per);
            if (o0 < o1) Matmul.rows(cw, xp, rows, o0, o1, o);
        });
    }

    /** The activations arranged for the kernel their row count selects, in this backend's scratch array. */
    PackedRows packed(float[] xs, int rows, CpuWeight w) {
        PackedRows p = PackedRows.of(pool, xs, rows, w, scratch);
        if (p.data() != xs) scratch = p.data();
        return p;
    }

    /** The activations as {@link Matmul#rows} reads them for weights of {@code lanes} elements per lane. */
    float[] permuted(float[] xs, int rows, int cols, int lanes) {
        if (lanes == 1) return xs;
        if (scratch.length < rows * cols) scratch = new float[rows * cols];
        Matmul.permute(xs, rows, cols, lanes, scratch);
        return scratch;
    }

    WorkerPool pool() {
        return pool;
    }

    /** Splits {@code n} into tasks for the pool when {@code work} multiply-adds are worth it. */
    int tasksFor(long work, int n) {
        return work < MIN_PARALLEL_WORK ? 1 : Math.max(1, Math.min(pool.threads() * 8, n));
    }

    /** Whether {@code elements} of element-wise work are worth a pool job. */
    boolean shares(long elements) {
        return elements >= MIN_PARALLEL_ELEMENTS && pool.threads() > 1;
    }

    /** A range {@code [from, to)} of rows or elements. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over consecutive ranges of {@code [0, n)} whose inner ends are multiples of {@code align}: one
     * range on the calling thread below {@link #MIN_PARALLEL_ELEMENTS} elements ({@code width} per item), else a
     * pool job. Element-wise kernels compute each item by the same code in any range (an alignment to the vector
     * length keeps every element in the vector loop or the scalar tail it lands in unsplit), so the split never
     * changes a bit.
     */
    void ranges(int n, long width, int align, Range body) {
        int tasks = shares((long) n * width) ? pool.threads() * 2 : 1;
        int per = ((n + tasks - 1) / tasks + align - 1) / align * align;
        if (per >= n) {
            body.run(0, n);
            return;
        }
        pool.run((n + per - 1) / per, t -> body.run(t * per, Math.min(n, (t + 1) * per)));
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) {
        float[] xs = array(x, "x");
        nonNegative("rows", rows);
        positive("heads", heads);
        positive("headDim", headDim);
        if (headDim % 2 != 0) throw new IllegalArgumentException("headDim: " + headDim + " is odd");
        if (positions.length < rows) {
            throw new IllegalArgumentException("positions: " + positions.length + " positions for " + rows + " rows");
        }
        if (!(theta > 0)) throw new IllegalArgumentException("theta: " + theta + " is not positive");
        need("x", xs, (long) rows * heads * headDim);
        float[][] rotation = RopeTable.rows(java.util.Arrays.copyOf(positions, rows), headDim, theta);
        ranges(rows, (long) heads * headDim, 1, (r0, r1) -> rotate(xs, r0, r1, heads, headDim, rotation[0], rotation[1]));
    }

    @Override
    public void rope(Buffer x, int heads, Step step) {
        float[] xs = array(x, "x");
        CpuStep s = step(step);
        positive("heads", heads);
        int d = s.metadata().headDim();
        need("x", xs, (long) s.rows() * heads * d);
        ranges(s.rows(), (long) heads * d, 1, (r0, r1) -> rotate(xs, r0, r1, heads, d, s.cos(), s.sin()));
    }

    /** Rotate-half RoPE of the heads of rows {@code [r0, r1)} by each row's {@code cos/sin[r * d/2 ..]}. */
    private static void rotate(float[] xs, int r0, int r1, int heads, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int r = r0; r < r1; r++) {
            int ro = r * half;
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float x1 = xs[base + j];
                    float x2 = xs[base + j + half];
                    xs[base + j] = x1 * cos[ro + j] - x2 * sin[ro + j];
                    xs[base + j + half] = x2 * cos[ro + j] + x1 * sin[ro + j];
                }
            }
        }
    }

    /** The rotations of the cache indexes below {@code n}, for keys cached before RoPE. */
    private static Attention.KeyRotation keyRotations(int n, int headDim, float theta) {
        int stride = (n + VL - 1) / VL * VL, half = headDim / 2;
        int[] positions = new int[stride];
        for (int p = 0; p < stride; p++) positions[p] = p;
        float[][] rows = RopeTable.rows(positions, headDim, theta);
        float[][] t = new float[2][half * stride];
        for (int k = 0; k < 2; k++) {
            for (int p = 0; p < stride; p++) for (int i = 0; i < half; i++) t[k][i * stride + p] = rows[k][p * half + i];
        }
        return new Attention.KeyRotation(t[0], t[1], stride);
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
        nonNegative("rows", rows);
        if (slots.length < rows) throw new IllegalArgumentException("slots: " + slots.length + " slots for " + rows + " rows");
        store(cache(cache), layer, array(k, "k"), array(v, "v"), rows, slots);
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, Step step) {
        CpuStep s = step(step);
        store(cache(cache), layer, array(k, "k"), array(v, "v"), s.rows(), s.slots());
    }

    private static void store(PagedKvCache c, int layer, float[] ks, float[] vs, int rows, int[] slots) {
        KvLayout l = c.layout();
        int rw = l.rowWidth();
        need("k", ks, (long) rows * rw);
        need("v", vs, (long) rows * rw);
        KernelArguments.slots("storeKv", slots, rows, l);
        float[] kc = c.keys(layer);
        float[] vc = c.values(layer);
        int bs = l.blockSize();
        for (int r = 0; r < rows; r++) {
            // keys transposed within their block (Attention), values as rows
            int at = Attention.keyIndex(slots[r], 0, bs, rw);
            for (int e = 0; e < rw; e++) kc[at + e * bs] = ks[r * rw + e];
            System.arraycopy(vs, r * rw, vc, slots[r] * rw, rw);
        }
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, Step step, Buffer out) {
        attention(q, cache, layer, step(step).attention(), out);
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
        float[] qs = array(q, "q");
        PagedKvCache c = cache(cache);
        float[] o = array(out, "out");
        KvLayout l = c.layout();
        int heads = batch.heads();
        int kvHeads = l.kvHeads();
        if (heads < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("batch.heads: " + heads + " is not a positive multiple of the cache's " + kvHeads + " KV heads");
        }
        int d = l.headDim();
        int rows = batch.rows();
        int width = heads * d;
        need("q", qs, (long) rows * width);
        need("out", o, (long) rows * width);
        KernelArguments.attentionBatch("attention", batch, l);
        int maxPos = 0;
        for (int r = 0; r < rows; r++) maxPos = Math.max(maxPos, batch.position(r));
        float[] kc = c.keys(layer);
        float[] vc = c.values(layer);
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        // one unit of work: a row's query heads over one KV head, which Attention.heads runs together, or one query
        // head where that leaves too few units for the threads (one row of a long context); the bits are the same
        int span = rows * kvHeads >= 2 * pool.threads() ? group : 1;
        int spans = heads / span;
        int units = rows * spans;
        long work = 0;
        for (int r = 0; r < rows; r++) work += (long) (batch.position(r) + 1) * heads * d;
        int tasks = work < MIN_PARALLEL_WORK ? 1 : Math.min(units, pool.threads() * 16);
        int per = (units + tasks - 1) / tasks;
        int ctx = maxPos + 1;
        Attention.KeyRotation rotation = batch.rotatesKeys() ? keyRotations(ctx, d, batch.keyRopeTheta()) : null;
        pool.run(tasks, t -> {
            Attention.Row row = Attention.Row.of(d, l.blockSize(), l.rowWidth(), ctx, span);
            int lastRow = -1;
            for (int unit = t * per; unit < Math.min(units, (t + 1) * per); unit++) {
                int r = unit / spans;
                int h0 = unit % spans * span;
                if (r != lastRow) {
                    row.row(batch.blockTable(batch.sequenceOf(r)), batch.position(r) + 1);
                    lastRow = r;
                }
                int first = (r * heads + h0) * d;
                Attention.heads(row, qs, first, span, kc, vc, h0 / group, scale, o, first, rotation);
            }
        });
    }

    @Override
    public void swiglu(Buffer gate, Buffer up, long n, Buffer out) {
        float[] g = array(gate, "gate");
        float[] u = array(up, "up");
        float[] o = array(out, "out");
        nonNegative("n", n);
        need("gate", g, n);
        need("up", u, n);
        need("out", o, n);
        ranges((int) n, 1, VL, (from, to) -> swiglu(g, u, from, to, o));
    }

    /** {@code o[i] = silu(g[i]) * u[i]} for i in {@code [from, to)}. */
    static void swiglu(float[] g, float[] u, int from, int to, float[] o) {
        int full = from + FS.loopBound(to - from);
        int i = from;
        for (; i < full; i += VL) {
            FloatVector gv = FloatVector.fromArray(FS, g, i);
            FloatVector sig = Lanes.exp(gv.neg()).add(1f);
            gv.div(sig).mul(FloatVector.fromArray(FS, u, i)).intoArray(o, i);
        }
        for (; i < to; i++) o[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
    }

    @Override
    public void add(Buffer a, Buffer b, long n, Buffer out) {
        float[] as = array(a, "a");
        float[] bs = array(b, "b");
        float[] o = array(out, "out");
        nonNegative("n", n);
        need("a", as, n);
        need("b", bs, n);
        need("out", o, n);
        ranges((int) n, 1, VL, (from, to) -> {
            int full = from + FS.loopBound(to - from);
            int i = from;
            for (; i < full; i += VL) FloatVector.fromArray(FS, as, i).add(FloatVector.fromArray(FS, bs, i)).intoArray(o, i);
            for (; i < to; i++) o[i] = as[i] + bs[i];
        });
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) {
        float[] s = array(src, "src");
        float[] d = array(dst, "dst");
        nonNegative("cols", cols);
        need("dst", d, (long) rows.length * cols);
        long srcRows = cols == 0 ? Long.MAX_VALUE : s.length / cols;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= srcRows) {
                throw new IllegalArgumentException("rows[" + i + "]: row " + rows[i] + " is outside src's " + srcRows + " rows");
            }
        }
        for (int i = 0; i < rows.length; i++) System.arraycopy(s, rows[i] * cols, d, i * cols, cols);
    }

    @Override
    public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) {
        float[] s = array(src, "src");
        float[] d = array(dst, "dst");
        nonNegative("cols", cols);
        if (scales.length != rows.length) {
            throw new IllegalArgumentException("scales: " + scales.length + " scales for " + rows.length + " rows");
        }
        need("src", s, (long) rows.length * cols);
        long dstRows = cols == 0 ? Long.MAX_VALUE : d.length / cols;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= dstRows) {
                throw new IllegalArgumentException("rows[" + i + "]: row " + rows[i] + " is outside dst's " + dstRows + " rows");
            }
        }
        for (int i = 0; i < rows.length; i++) addScaled(s, i * cols, scales[i], d, rows[i] * cols, cols);
    }

    /** {@code d[dO + j] += sc * s[so + j]} for {@code j < cols}. */
    static void addScaled(float[] s, int so, float sc, float[] d, int dO, int cols) {
        int full = FS.loopBound(cols);
        FloatVector scv = FloatVector.broadcast(FS, sc);
        int j = 0;
        for (; j < full; j += VL) {
            FloatVector.fromArray(FS, s, so + j).fma(scv, FloatVector.fromArray(FS, d, dO + j)).intoArray(d, dO + j);
        }
        for (; j < cols; j++) d[dO + j] += sc * s[so + j];
    }

    // ---- SPI 2

    @Override
    public Step step(StepMetadata metadata) {
        open();
        if (metadata == null) throw new IllegalArgumentException("metadata is null");
        return new CpuStep(metadata, this);
    }

    @Override
    public void moe(MoeCall call) {
        open();
        if (call == null) throw new IllegalArgumentException("call is null");
        FusedMoe.run(this, call);
    }

    @Override
    public CompiledPlan compile(Plan plan) {
        open();
        if (plan == null) throw new IllegalArgumentException("plan is null");
        return new CpuPlan(this, plan);
    }

    @Override
    public long dispatches() {
        return pool.jobs();
    }

    @Override
    public void synchronize() {
        open();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        StepProfile p = profile;
        if (p != null && !p.isEmpty()) System.err.print(p.report());
        for (AutoCloseable r : live.toArray(AutoCloseable[]::new)) {
            try {
                r.close();
            } catch (Exception ignored) {
                // buffers and caches do not throw on close
            }
        }
        pool.close();
    }

    // ---- argument checks

    private void open() {
        if (closed) throw new IllegalStateException("backend " + CpuVectorProvider.NAME + " is closed");
    }

    float[] array(Buffer b, String argument) {
        open();
        if (b == null) throw new IllegalArgumentException(argument + " is null");
        if (!(b instanceof HeapBuffer hb) || hb.owner() != this) {
            throw new IllegalArgumentException(argument + ": " + b.getClass().getName() + " is not a buffer of this backend");
        }
        return hb.array(argument);
    }

    CpuWeight weight(Weight w, String argument) {
        open();
        if (!(w instanceof CpuWeight cw)) {
            throw new IllegalArgumentException(argument + ": " + (w == null ? "null" : w.getClass().getName())
                    + " is not a weight of the " + CpuVectorProvider.NAME + " backend");
        }
        cw.data();
        return cw;
    }

    CpuStep step(Step s) {
        open();
        if (!(s instanceof CpuStep cs) || cs.owner() != this) {
            throw new IllegalArgumentException("step: " + (s == null ? "null" : s.getClass().getName())
                    + " is not a step of this backend");
        }
        return cs.live();
    }

    private PagedKvCache cache(KvCache c) {
        open();
        if (!(c instanceof PagedKvCache pc) || pc.owner() != this) {
            throw new IllegalArgumentException("cache: " + (c == null ? "null" : c.getClass().getName())
                    + " is not a KV cache of this backend");
        }
        return pc;
    }

    static void need(String argument, float[] a, long floats) {
        if (a.length < floats) {
            throw new IllegalArgumentException(argument + ": buffer of " + a.length + " floats, " + floats + " needed");
        }
    }

    private static void range(String argument, int length, long offset, int n) {
        if (n < 0 || offset < 0 || offset + n > length) {
            throw new IllegalArgumentException(argument + ": range [" + offset + ", " + (offset + n) + ") is outside its "
                    + length + " floats");
        }
    }

    private static void positive(String argument, long value) {
        if (value < 1) throw new IllegalArgumentException(argument + ": " + value + " is not positive");
    }

    private static void nonNegative(String argument, long value) {
        if (value < 0) throw new IllegalArgumentException(argument + ": " + value + " is negative");
    }

    @Override
    public String toString() {
        return CpuVectorProvider.NAME + " on " + device;
    }
}
