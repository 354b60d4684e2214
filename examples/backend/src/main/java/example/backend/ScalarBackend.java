package example.backend;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * Every kernel in plain scalar Java, one thread, sums in float64 in index order (deterministic by construction).
 * Memory is Java arrays; {@link #memoryInUse()} counts the floats held by open buffers, weights and caches.
 */
final class ScalarBackend implements Backend {
    static final Set<Capability> CAPABILITIES = Set.of(Capability.WEIGHTS_F32);
    private long inUse;

    /** A float array that knows whether it is closed. */
    private final class Mem implements Buffer, Weight, KvCache {
        final float[] data;
        final String name;
        final long rows, cols;
        final KvLayout layout;
        boolean closed;

        Mem(String name, float[] data, long rows, long cols, KvLayout layout) {
            this.name = name;
            this.data = data;
            this.rows = rows;
            this.cols = cols;
            this.layout = layout;
            inUse += 4L * data.length;
        }

        @Override public long floats() { return data.length; }
        @Override public String name() { return name; }
        @Override public DType dtype() { return DType.F32; }
        @Override public long rows() { return rows; }
        @Override public long cols() { return cols; }
        @Override public long byteSize() { return 4L * data.length; }
        @Override public KvLayout layout() { return layout; }

        @Override
        public void close() {
            if (!closed) inUse -= 4L * data.length;
            closed = true;
        }
    }

    private static Mem open(Object o, String what) {
        if (!(o instanceof Mem m)) throw new IllegalArgumentException(what + ": not made by this backend: " + o);
        if (m.closed) throw new IllegalStateException(what + ": " + m.name + " is closed");
        return m;
    }

    /** The buffer, checked to hold at least {@code n} floats. */
    private static float[] need(Buffer b, long n, String what) {
        Mem m = open(b, what);
        if (n < 0 || n > m.data.length) throw new IllegalArgumentException(what + ": needs " + n + " floats, holds " + m.data.length);
        return m.data;
    }

    @Override public String name() { return "example-scalar"; }
    @Override public String device() { return "scalar Java"; }
    @Override public Set<Capability> capabilities() { return CAPABILITIES; }
    @Override public long memoryInUse() { return inUse; }
    @Override public void synchronize() { }
    @Override public void close() { }

    @Override
    public Buffer allocate(long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("allocate: " + floats + " floats");
        return new Mem("buffer", new float[(int) floats], 1, floats, null);
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n) {
        float[] d = need(dst, dstOffset + n, "upload dst");
        if (srcOffset < 0 || n < 0 || srcOffset + n > src.length) throw new IllegalArgumentException("upload: src range " + srcOffset + "+" + n + " of " + src.length);
        System.arraycopy(src, srcOffset, d, (int) dstOffset, n);
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n) {
        float[] s = need(src, srcOffset + n, "download src");
        if (dstOffset < 0 || n < 0 || dstOffset + n > dst.length) throw new IllegalArgumentException("download: dst range " + dstOffset + "+" + n + " of " + dst.length);
        System.arraycopy(s, (int) srcOffset, dst, dstOffset, n);
    }

    @Override
    public Weight weight(TensorData t) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(t.name() + ": dtype " + t.dtype() + " is not declared (F32 only)");
        float[] w = new float[(int) t.numel()];
        for (int i = 0; i < w.length; i++) w[i] = t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
        return new Mem(t.name(), w, t.rows(), t.cols(), null);
    }

    @Override
    public KvCache kvCache(KvLayout l) {
        long n = 2 * l.slots() * l.layers() * l.kvHeads() * l.headDim();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("kvCache: " + l + " is too large for one array");
        return new Mem("kv-cache", new float[(int) n], 1, n, l);
    }

    @Override
    public void embed(Weight table, int[] ids, Buffer out) {
        Mem t = open(table, "embed table");
        int cols = (int) t.cols;
        float[] o = need(out, (long) ids.length * cols, "embed out");
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0 || ids[r] >= t.rows) {
                throw new IllegalArgumentException("ids[" + r + "]: token id " + ids[r] + " is outside the " + t.rows + " rows of " + t.name);
            }
            System.arraycopy(t.data, ids[r] * cols, o, r * cols, cols);
        }
    }

    @Override
    public void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) {
        float[] in = need(x, (long) rows * dim, "rmsNorm x"), o = need(out, (long) rows * dim, "rmsNorm out");
        float[] g = open(w, "rmsNorm weight").data;
        if (g.length < dim) throw new IllegalArgumentException("rmsNorm weight: " + g.length + " values for dim " + dim);
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) in[r * dim + i] * in[r * dim + i];
            double inv = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) o[r * dim + i] = (float) (g[i] * (in[r * dim + i] * inv));
        }
    }

    @Override
    public void matmul(Buffer x, int rows, Weight w, Buffer out) {
        Mem m = open(w, "matmul weight");
        int in = (int) m.cols, outs = (int) m.rows;
        float[] a = need(x, (long) rows * in, "matmul x"), o = need(out, (long) rows * outs, "matmul out");
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < outs; j++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += (double) a[r * in + i] * m.data[j * in + i];
                o[r * outs + j] = (float) s;
            }
        }
    }

    @Override
    public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) {
        float[] v = need(x, (long) rows * heads * headDim, "rope x");
        if (positions.length < rows) throw new IllegalArgumentException("rope: " + positions.length + " positions for " + rows + " rows");
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    double angle = positions[r] * Math.pow(theta, -2.0 * j / headDim);
                    double c = Math.cos(angle), s = Math.sin(angle), a = v[base + j], b = v[base + j + half];
                    v[base + j] = (float) (a * c - b * s);
                    v[base + j + half] = (float) (b * c + a * s);
                }
            }
        }
    }

    /** Offset of (kind 0 key / 1 value, layer, slot) in a cache array. */
    private static long at(KvLayout l, int kind, int layer, long slot) {
        return (((long) kind * l.layers() + layer) * l.slots() + slot) * l.kvHeads() * l.headDim();
    }

    @Override
    public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) {
        Mem c = open(cache, "storeKv cache");
        KvLayout l = c.layout;
        int width = l.kvHeads() * l.headDim();
        if (layer < 0 || layer >= l.layers()) throw new IllegalArgumentException("storeKv: layer " + layer + " of " + l.layers());
        float[] ks = need(k, (long) rows * width, "storeKv k"), vs = need(v, (long) rows * width, "storeKv v");
        for (int r = 0; r < rows; r++) {
            if (slots[r] < 0 || slots[r] >= l.slots()) throw new IllegalArgumentException("storeKv: slots[" + r + "] = " + slots[r] + " of " + l.slots());
            System.arraycopy(ks, r * width, c.data, (int) at(l, 0, layer, slots[r]), width);
            System.arraycopy(vs, r * width, c.data, (int) at(l, 1, layer, slots[r]), width);
        }
    }

    @Override
    public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) {
        Mem c = open(cache, "attention cache");
        KvLayout l = c.layout;
        int heads = batch.heads(), d = l.headDim();
        if (heads % l.kvHeads() != 0) throw new IllegalArgumentException("attention: " + heads + " heads is not a multiple of " + l.kvHeads() + " KV heads");
        if (batch.rotatesKeys()) throw new IllegalArgumentException("attention: keyRopeTheta needs attention.sinks, which this backend does not declare");
        if (layer < 0 || layer >= l.layers()) throw new IllegalArgumentException("attention: layer " + layer + " of " + l.layers());
        int rows = batch.rows(), group = heads / l.kvHeads();
        float[] qs = need(q, (long) rows * heads * d, "attention q"), o = need(out, (long) rows * heads * d, "attention out");
        double scale = 1 / Math.sqrt(d);
        for (int r = 0; r < rows; r++) {
            int pos = batch.position(r), seq = batch.sequenceOf(r);
            for (int h = 0; h < heads; h++) {
                int kvh = h / group;
                double[] s = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    long kAt = at(l, 0, layer, batch.slot(seq, p, l.blockSize())) + (long) kvh * d;
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double) qs[(r * heads + h) * d + i] * c.data[(int) kAt + i];
                    s[p] = dot * scale;
                    max = Math.max(max, s[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) sum += s[p] = Math.exp(s[p] - max); // max subtracted: no overflow
                double[] acc = new double[d];
                for (int p = 0; p <= pos; p++) {
                    long vAt = at(l, 1, layer, batch.slot(seq, p, l.blockSize())) + (long) kvh * d;
                    for (int i = 0; i < d; i++) acc[i] += s[p] / sum * c.data[(int) vAt + i];
                }
                for (int i = 0; i < d; i++) o[(r * heads + h) * d + i] = (float) acc[i];
            }
        }
    }

    @Override
    public void swiglu(Buffer gate, Buffer up, long n, Buffer out) {
        float[] g = need(gate, n, "swiglu gate"), u = need(up, n, "swiglu up"), o = need(out, n, "swiglu out");
        for (int i = 0; i < n; i++) o[i] = (float) (g[i] / (1 + Math.exp(-(double) g[i])) * u[i]);
    }

    @Override
    public void add(Buffer a, Buffer b, long n, Buffer out) {
        float[] x = need(a, n, "add a"), y = need(b, n, "add b"), o = need(out, n, "add out");
        for (int i = 0; i < n; i++) o[i] = x[i] + y[i];
    }

    @Override
    public void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) {
        float[] s = open(src, "gatherRows src").data, d = need(dst, (long) rows.length * cols, "gatherRows dst");
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || (long) (rows[i] + 1) * cols > s.length) throw new IllegalArgumentException("gatherRows: rows[" + i + "] = " + rows[i]);
            System.arraycopy(s, rows[i] * cols, d, i * cols, cols);
        }
    }

    @Override
    public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) {
        float[] s = need(src, (long) rows.length * cols, "scatterAddRows src"), d = open(dst, "scatterAddRows dst").data;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || (long) (rows[i] + 1) * cols > d.length) throw new IllegalArgumentException("scatterAddRows: rows[" + i + "] = " + rows[i]);
            for (int c = 0; c < cols; c++) d[rows[i] * cols + c] += scales[i] * s[i * cols + c];
        }
    }
}
