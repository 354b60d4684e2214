package dev.floe.backend.cpu;

import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Map;
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

    private final WorkerPool pool;
    private final String device;
    private final AtomicLong bytesInUse = new AtomicLong();
    private final Set<AutoCloseable> live = ConcurrentHashMap.newKeySet();
    private final Map<Long, float[]> invFreqCache = new ConcurrentHashMap<>();
    private float[] scratch = new float[0];
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
        CpuWeight t = weight(table, "table");
        float[] o = array(out, "out");
        int cols = (int) t.cols();
        need("out", o, (long) ids.length * cols);
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0 || ids[r] >= t.rows()) {
                throw new IllegalArgumentException("ids[" + r + "]: token id " + ids[r] + " is outside the "
                        + t.rows() + " rows of " + t.name());
            }
        }
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
        int full = FS.loopBound(dim);
        for (int r = 0; r < rows; r++) {
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
        int cols = (int) cw.cols();
        if (cw.rows() > Integer.MAX_VALUE) throw new IllegalArgumentException("w: " + cw.name() + " has too many rows");
        int outRows = (int) cw.rows();
        need("x", xs, (long) rows * cols);
        need("out", o, (long) rows * outRows);
        if (rows == 0 || outRows == 0) return;
        cw.scan(pool);
        if (rows >= Gemm.minRows) {
            Gemm.multiply(pool, cw, xs, 0, rows, o, 0);
            return;
        }
        int lanes = Matmul.lanes(cw.dtype());
        float[] xp = xs;
        if (lanes > 1) {
            if (scratch.length < rows * cols) scratch = new float[rows * cols];
            xp = scratch;
            Matmul.permute(xs, rows, cols, lanes, xp);
        }
        long work = (long) outRows * cols * Math.max(1, rows / 4);
        int tasks = work < MIN_PARALLEL_WORK ? 1 : Math.max(1, Math.min(pool.threads() * 8, outRows / 16));
        if (tasks == 1) {
            Matmul.rows(cw, xp, rows, 0, outRows, o);
            return;
        }
        float[] xpf = xp;
        int per = (outRows + tasks - 1) / tasks;
        pool.run(tasks, t -> {
            int o0 = t * per;
            int o1 = Math.min(outRows, o0 + per);
            if (o0 < o1) Matmul.rows(cw, xpf, rows, o0, o1, o);
        });
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
        float[] invFreq = invFreq(headDim, theta);
        int half = headDim / 2;
        float[] cos = new float[half];
        float[] sin = new float[half];
        for (int r = 0; r < rows; r++) {
            float pos = positions[r];
            if (positions[r] < 0) throw new IllegalArgumentException("positions[" + r + "]: " + positions[r] + " is negative");
            for (int j = 0; j < half; j++) {
                float a = pos * invFreq[j];
                cos[j] = (float) Math.cos(a);
                sin[j] = (float) Math.sin(a);
            }
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float x1 = xs[base + j];
                    float x2 = xs[base + j + half];
                    xs[base + j] = x1 * cos[j] - x2 * sin[j];
                    xs[base + j + half] = x2 * cos[j] + x1 * sin[j];
                }
            }
        }
    }

    /** cos and sin, {@code [position * d/2 + j]}, of the RoPE angles of positions {@code 0..n-1}, as {@link #rope} computes them. */
    private float[][] keyRotations(int n, int headDim, float theta) {
        float[] invFreq = invFreq(headDim, theta);
        int half = headDim / 2;
        float[] cos = new float[n * half];
        float[] sin = new float[n * half];
        for (int p = 0; p < n; p++) {
            float pos = p;
            for (int j = 0; j < half; j++) {
                float a = pos * invFreq[j];
                cos[p * half + j] = (float) Math.cos(a);
                sin[p * half + j] = (float) Math.sin(a);
            }
        }
        return new float[][]{cos, sin};
    }

    /** {@code inv_freq_j = theta^(-2j/d)}, computed in double and rounded to float as HF stores it. */
    private float[] invFreq(int headDim, float theta) {
        long key = ((long) headDim << 32) | Float.floatToRawIntBits(theta);
        return invFreqCache.computeIfAbsent(key, k -> {
            float[] f = new float[headDim / 2];
            for (int j = 0; j < f.length; j++) f[j] = (float) (1.0 / Math.pow(theta, (2.0 * j) / headDim));
            return f;
        });
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
        PagedKvCache c = cache(cache);
        float[] ks = array(k, "k");
        float[] vs = array(v, "v");
        nonNegative("rows", rows);
        KvLayout l = c.layout();
        int rw = l.rowWidth();
        need("k", ks, (long) rows * rw);
        need("v", vs, (long) rows * rw);
        if (slots.length < rows) throw new IllegalArgumentException("slots: " + slots.length + " slots for " + rows + " rows");
        for (int r = 0; r < rows; r++) {
            if (slots[r] < 0 || slots[r] >= l.slots()) {
                throw new IllegalArgumentException("slots[" + r + "]: slot " + slots[r] + " is outside the cache's " + l.slots() + " slots");
            }
        }
        float[] kc = c.keys(layer);
        float[] vc = c.values(layer);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(ks, r * rw, kc, slots[r] * rw, rw);
            System.arraycopy(vs, r * rw, vc, slots[r] * rw, rw);
        }
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
        int maxPos = 0;
        int sequences = batch.blockTables().length;
        for (int r = 0; r < rows; r++) {
            int s = batch.sequenceOf(r);
            int p = batch.position(r);
            if (s < 0 || s >= sequences) {
                throw new IllegalArgumentException("batch.sequence[" + r + "]: " + s + " has no block table");
            }
            if (p < 0) throw new IllegalArgumentException("batch.positions[" + r + "]: " + p + " is negative");
            int[] table = batch.blockTable(s);
            int needed = p / l.blockSize() + 1;
            if (table.length < needed) {
                throw new IllegalArgumentException("batch.blockTables[" + s + "]: " + table.length
                        + " blocks cannot hold position " + p + " with block size " + l.blockSize());
            }
            for (int b = 0; b < needed; b++) {
                if (table[b] < 0 || table[b] >= l.blocks()) {
                    throw new IllegalArgumentException("batch.blockTables[" + s + "][" + b + "]: block " + table[b]
                            + " is outside the cache's " + l.blocks() + " blocks");
                }
            }
            maxPos = Math.max(maxPos, p);
        }
        float[] kc = c.keys(layer);
        float[] vc = c.values(layer);
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        int pairs = rows * heads;
        long work = 0;
        for (int r = 0; r < rows; r++) work += (long) (batch.position(r) + 1) * heads * d;
        int tasks = work < MIN_PARALLEL_WORK ? 1 : Math.min(pairs, pool.threads() * 4);
        int per = (pairs + tasks - 1) / tasks;
        int ctx = maxPos + 1;
        // keys cached before RoPE: the rotation of every cache index, as rope() computes it
        float[][] keyRope = batch.rotatesKeys() ? keyRotations(ctx, d, batch.keyRopeTheta()) : null;
        pool.run(tasks, t -> {
            float[] scores = new float[ctx];
            int[] slotBase = new int[ctx];
            float[] key = keyRope == null ? null : new float[d];
            int lastRow = -1;
            for (int pair = t * per; pair < Math.min(pairs, (t + 1) * per); pair++) {
                int r = pair / heads;
                int h = pair % heads;
                int n = batch.position(r) + 1;
                if (r != lastRow) {
                    int[] table = batch.blockTable(batch.sequenceOf(r));
                    int bs = l.blockSize();
                    for (int p = 0; p < n; p++) slotBase[p] = (table[p / bs] * bs + p % bs) * l.rowWidth();
                    lastRow = r;
                }
                if (keyRope == null) {
                    Attention.head(qs, (r * heads + h) * d, kc, vc, slotBase, n, (h / group) * d, d, scale, scores,
                            o, (r * heads + h) * d);
                } else {
                    Attention.headRotatingKeys(qs, (r * heads + h) * d, kc, vc, slotBase, n, (h / group) * d, d, scale,
                            scores, o, (r * heads + h) * d, keyRope[0], keyRope[1], key);
                }
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
        int len = (int) n;
        int full = FS.loopBound(len);
        int i = 0;
        for (; i < full; i += VL) {
            FloatVector gv = FloatVector.fromArray(FS, g, i);
            FloatVector sig = Lanes.exp(gv.neg()).add(1f);
            gv.div(sig).mul(FloatVector.fromArray(FS, u, i)).intoArray(o, i);
        }
        for (; i < len; i++) o[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
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
        int len = (int) n;
        int full = FS.loopBound(len);
        int i = 0;
        for (; i < full; i += VL) FloatVector.fromArray(FS, as, i).add(FloatVector.fromArray(FS, bs, i)).intoArray(o, i);
        for (; i < len; i++) o[i] = as[i] + bs[i];
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
        int full = FS.loopBound(cols);
        for (int i = 0; i < rows.length; i++) {
            int so = i * cols;
            int dO = rows[i] * cols;
            float sc = scales[i];
            FloatVector scv = FloatVector.broadcast(FS, sc);
            int j = 0;
            for (; j < full; j += VL) {
                FloatVector.fromArray(FS, s, so + j).fma(scv, FloatVector.fromArray(FS, d, dO + j)).intoArray(d, dO + j);
            }
            for (; j < cols; j++) d[dO + j] += sc * s[so + j];
        }
    }

    @Override
    public void synchronize() {
        open();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
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

    private float[] array(Buffer b, String argument) {
        open();
        if (b == null) throw new IllegalArgumentException(argument + " is null");
        if (!(b instanceof HeapBuffer hb) || hb.owner() != this) {
            throw new IllegalArgumentException(argument + ": " + b.getClass().getName() + " is not a buffer of this backend");
        }
        return hb.array(argument);
    }

    private CpuWeight weight(Weight w, String argument) {
        open();
        if (!(w instanceof CpuWeight cw)) {
            throw new IllegalArgumentException(argument + ": " + (w == null ? "null" : w.getClass().getName())
                    + " is not a weight of the " + CpuVectorProvider.NAME + " backend");
        }
        cw.data();
        return cw;
    }

    private PagedKvCache cache(KvCache c) {
        open();
        if (!(c instanceof PagedKvCache pc) || pc.owner() != this) {
            throw new IllegalArgumentException("cache: " + (c == null ? "null" : c.getClass().getName())
                    + " is not a KV cache of this backend");
        }
        return pc;
    }

    private static void need(String argument, float[] a, long floats) {
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
