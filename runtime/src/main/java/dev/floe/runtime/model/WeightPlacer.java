package dev.floe.runtime.model;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.Capability;
import dev.floe.spi.FloatFormats;
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
 * host first (the capability fallback of the SPI), so every backend runs every checkpoint.
 */
final class WeightPlacer implements AutoCloseable {
    private final Backend backend;
    private final Set<Capability> capabilities;
    private final Arena arena = Arena.ofShared();
    private final List<Weight> placed = new ArrayList<>();
    private long hostFallbackBytes;

    WeightPlacer(Backend backend) {
        this.backend = backend;
        this.capabilities = backend.capabilities();
    }

    synchronized Weight place(TensorData t) {
        Capability needed = Capability.forWeights(t.dtype());
        TensorData onDevice = needed != null && capabilities.contains(needed) ? t : toF32(t);
        Weight w = backend.weight(onDevice);
        placed.add(w);
        return w;
    }

    private TensorData toF32(TensorData t) {
        float[] values = FloatFormats.toFloats(t);
        MemorySegment seg = arena.allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        hostFallbackBytes += seg.byteSize();
        return new TensorData(t.name(), DType.F32, t.shape(), seg, null);
    }

    /** Host memory that lives as long as the placed weights (copied shards). */
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
