package dev.floe.runtime.checkpoint;

import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.bench.SyntheticWeights;
import dev.floe.spi.TensorSource;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Tensors held in a {@link WeightArena}: every tensor of a source copied in ({@link #copyOf}; option
 * {@code weights.in-memory=true}, llama.cpp's {@code --no-mmap}: the load reads the whole checkpoint and the process
 * holds it all, and in exchange the weights sit on huge pages rather than a file mapping's 4 KiB pages, which decodes
 * faster: BENCHMARKS.md, "Huge pages"), or made up in place ({@link SyntheticWeights}).
 */
public sealed class InMemoryTensors implements TensorSource, AutoCloseable permits SyntheticWeights {
    private final WeightArena arena = new WeightArena();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();
    private final String where;
    private long bytes;

    /** An empty set of tensors, {@code where} naming it in errors. */
    protected InMemoryTensors(String where) {
        this.where = where;
    }

    /** Copies every tensor (and its scale) of {@code source}, {@code where} naming it in errors. */
    public static InMemoryTensors copyOf(TensorSource source, String where) {
        InMemoryTensors copy = new InMemoryTensors(where);
        try {
            for (String name : source.names()) {
                copy.put(copy.copy(source.tensor(name)));
            }
            return copy;
        } catch (RuntimeException | OutOfMemoryError e) {
            copy.close();
            throw e;
        }
    }

    private TensorData copy(TensorData t) {
        TensorData scale = t.scale() == null ? null : copy(t.scale());
        return new TensorData(t.name(), t.dtype(), t.shape(), allocate(t.data().byteSize()).copyFrom(t.data()), scale);
    }

    /** Zeroed memory for a tensor's data, counted in {@link #bytesHeld}. */
    protected final MemorySegment allocate(long n) {
        bytes += n;
        return arena.allocate(n);
    }

    /** Adds a tensor whose data (and scale's) came from {@link #allocate}. */
    protected final void put(TensorData t) {
        tensors.put(t.name(), t);
    }

    @Override
    public final TensorData tensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) throw new ModelFormatException(where + ": tensor " + name + " is missing from the checkpoint");
        return t;
    }

    @Override
    public final boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public final Set<String> names() {
        return tensors.keySet();
    }

    /** Nothing is mapped: every byte was copied. */
    @Override
    public long bytesMapped() {
        return 0;
    }

    /** Bytes of tensors held. */
    public final long bytesHeld() {
        return bytes;
    }

    /** Bytes on huge pages (0 where the platform did not allow them). */
    public long hugePageBytes() {
        return arena.hugePageBytes();
    }

    @Override
    public final void close() {
        arena.close();
    }
}
