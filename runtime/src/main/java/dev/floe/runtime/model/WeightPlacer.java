package dev.floe.runtime.model;

import dev.floe.api.DType;
import dev.floe.api.Quantization;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.Capability;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.SpiVersion;
import dev.floe.spi.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Places checkpoint tensors on a backend. A dtype the backend does not read natively is dequantised to F32 on the
 * host first (the capability fallback of the SPI), so every backend runs every checkpoint. The same holds for a
 * block-scaled weight ({@link ScaleLayout.Block}) on a backend without {@link Capability#WEIGHTS_BLOCK_SCALES}: an
 * SPI 1 backend, or one written before block scales, gets it as F32.
 */
final class WeightPlacer implements AutoCloseable {
    private final Backend backend;
    private final Set<Capability> capabilities;
    private final Arena arena = Arena.ofShared();
    private final List<Weight> placed = new ArrayList<>();
    private long hostFallbackBytes;

    private final ScaleLayout.Block block;

    /** A placer for a checkpoint whose block scales (if any) have the given block size, or null. */
    WeightPlacer(Backend backend, ScaleLayout.Block block) {
        this.backend = backend;
        this.capabilities = SpiVersion.effectiveCapabilities(backend);
        this.block = block;
    }

    WeightPlacer(Backend backend) {
        this(backend, null);
    }

    /** The block size of a checkpoint's {@code weight_block_size}, or null. */
    static ScaleLayout.Block blockOf(Quantization q) {
        return q == null || !q.blockScaled() ? null : new ScaleLayout.Block(q.weightBlockSize().get(0), q.weightBlockSize().get(1));
    }

    synchronized Weight place(TensorData t) {
        ScaleLayout layout = ScaleLayout.of(t, block);
        Capability needed = Capability.forWeights(t.dtype());
        boolean nativeDtype = needed != null && capabilities.contains(needed);
        boolean blocked = layout instanceof ScaleLayout.Block;
        Weight w;
        if (!nativeDtype || (blocked && !capabilities.contains(Capability.WEIGHTS_BLOCK_SCALES))) {
            w = backend.weight(toF32(t, layout));
        } else {
            w = blocked ? backend.weight(t, layout) : backend.weight(t);
        }
        placed.add(w);
        return w;
    }

    private TensorData toF32(TensorData t, ScaleLayout layout) {
        float[] values = FloatFormats.toFloats(t, layout);
        MemorySegment seg = arena.allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        hostFallbackBytes += seg.byteSize();
        return new TensorData(t.name(), DType.F32, t.shape(), seg, null);
    }

    /** Host memory that lives as long as the placed weights (copied shards). */
    /** The checkpoint's scale block size, or null. */
    ScaleLayout.Block block() {
        return block;
    }

    Arena arena() {
        return arena;
    }

    Backend backend() {
        return backend;
    }

    /** Frees a weight placed here before the placer closes (an evicted expert). */
    synchronized void release(Weight w) {
        if (placed.remove(w)) w.close();
    }

    /** Bytes of host memory spent on dequantised copies. */
    synchronized long hostFallbackBytes() {
        return hostFallbackBytes;
    }

    @Override
    public synchronized void close() {
        placed.forEach(Weight::close);
        placed.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
