package dev.floe.backend.cpu;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

/**
 * A pass's metadata on the CPU: the arrays every layer's kernels read, unpacked once (host memory is the device
 * memory here, so nothing is copied across).
 */
final class CpuStep implements Step {
    private final StepMetadata metadata;
    private final CpuVectorBackend owner;
    private final int[] tokens, slots;
    private final float[] cos, sin;
    private final AttentionBatch attention;
    private volatile boolean closed;

    CpuStep(StepMetadata metadata, CpuVectorBackend owner) {
        this.metadata = metadata;
        this.owner = owner;
        this.tokens = metadata.tokens();
        this.slots = metadata.slots();
        this.cos = metadata.ropeCos();
        this.sin = metadata.ropeSin();
        this.attention = metadata.attentionBatch();
    }

    @Override
    public StepMetadata metadata() {
        return metadata;
    }

    @Override
    public int rows() {
        return tokens.length;
    }

    CpuVectorBackend owner() {
        return owner;
    }

    /** This step, or an error when it was closed. */
    CpuStep live() {
        if (closed) throw new IllegalStateException("step is closed");
        return this;
    }

    int[] tokens() {
        return tokens;
    }

    int[] slots() {
        return slots;
    }

    float[] cos() {
        return cos;
    }

    float[] sin() {
        return sin;
    }

    AttentionBatch attention() {
        return attention;
    }

    @Override
    public void close() {
        closed = true;
    }
}
