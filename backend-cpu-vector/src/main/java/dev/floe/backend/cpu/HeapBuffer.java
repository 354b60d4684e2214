package dev.floe.backend.cpu;

import dev.floe.spi.Buffer;

/**
 * A float32 activation buffer on the Java heap. A heap array (rather than an off-heap segment) keeps the kernels'
 * activation loads free of segment bounds and liveness checks; activations are small next to the weights.
 */
final class HeapBuffer implements Buffer {
    private final float[] data;
    private final CpuVectorBackend owner;
    private volatile boolean closed;

    HeapBuffer(int floats, CpuVectorBackend owner) {
        this.data = new float[floats];
        this.owner = owner;
    }

    @Override
    public long floats() {
        return data.length;
    }

    CpuVectorBackend owner() {
        return owner;
    }

    /** The elements; throws if the buffer is closed. */
    float[] array(String argument) {
        if (closed) throw new IllegalStateException("buffer " + argument + " is closed");
        return data;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.released(this, (long) data.length * Float.BYTES);
    }
}
