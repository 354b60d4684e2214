package dev.floe.tck.spi1;

import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;

import java.util.Set;

/**
 * A backend exactly as one was written against SPI 1, kept to hold the compatibility promise: it implements the SPI 1
 * methods only (here by handing them to a real backend) and passes on the capabilities of that backend, SPI 2 ones
 * included, which it cannot honour. Do not add SPI 2 methods here: the point is that this class, unchanged, still
 * compiles, loads and passes the kit.
 */
public class Spi1Backend implements Backend {
    protected final Backend delegate;

    public Spi1Backend(Backend delegate) {
        this.delegate = delegate;
    }

    @Override public String name() { return delegate.name(); }
    @Override public String device() { return delegate.device(); }
    @Override public Set<Capability> capabilities() { return delegate.capabilities(); }
    @Override public Buffer allocate(long floats) { return delegate.allocate(floats); }
    @Override public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n) { delegate.upload(src, srcOffset, dst, dstOffset, n); }
    @Override public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n) { delegate.download(src, srcOffset, dst, dstOffset, n); }
    @Override public Weight weight(TensorData tensor) { return delegate.weight(tensor); }
    @Override public KvCache kvCache(KvLayout layout) { return delegate.kvCache(layout); }
    @Override public long memoryInUse() { return delegate.memoryInUse(); }
    @Override public void embed(Weight table, int[] ids, Buffer out) { delegate.embed(table, ids, out); }
    @Override public void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) { delegate.rmsNorm(x, w, eps, rows, dim, out); }
    @Override public void matmul(Buffer x, int rows, Weight w, Buffer out) { delegate.matmul(x, rows, w, out); }
    @Override public void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta) { delegate.rope(x, rows, heads, headDim, positions, theta); }
    @Override public void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots) { delegate.storeKv(cache, layer, k, v, rows, slots); }
    @Override public void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out) { delegate.attention(q, cache, layer, batch, out); }
    @Override public void swiglu(Buffer gate, Buffer up, long n, Buffer out) { delegate.swiglu(gate, up, n, out); }
    @Override public void add(Buffer a, Buffer b, long n, Buffer out) { delegate.add(a, b, n, out); }
    @Override public void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) { delegate.gatherRows(src, cols, rows, dst); }
    @Override public void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst) { delegate.scatterAddRows(src, cols, rows, scales, dst); }
    @Override public void synchronize() { delegate.synchronize(); }
    @Override public void close() { delegate.close(); }
}
