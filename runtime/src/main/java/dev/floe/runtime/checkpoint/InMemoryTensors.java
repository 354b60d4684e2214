package dev.floe.runtime.checkpoint;

import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.TensorSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Every tensor of a source copied into a {@link WeightArena} (option {@code weights.in-memory=true}, llama.cpp's
 * {@code --no-mmap}): the load reads the whole checkpoint and the process holds it all, and in exchange the weights
 * sit on huge pages rather than a file mapping's 4 KiB pages, which decodes faster (BENCHMARKS.md, "Huge pages").
 */
public final class InMemoryTensors implements TensorSource, AutoCloseable {
    private final WeightArena arena = new WeightArena();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();
    private final String where;
    private long bytes;

    private InMemoryTensors(String where) {
        this.where = where;
    }

    /**
     * Copies every tensor (and its scale) of {@code source}, {@code where} naming it in errors, reporting the bytes
     * copied so far to {@code progress}.
     */
    public static InMemoryTensors copyOf(TensorSource source, String where, LongConsumer progress) {
        InMemoryTensors copy = new InMemoryTensors(where);
        try {
            for (String name : source.names()) {
                copy.tensors.put(name, copy.copy(source.tensor(name)));
                progress.accept(copy.bytes);
            }
            return copy;
        } catch (RuntimeException | OutOfMemoryError e) {
            copy.close();
            throw e;
        }
    }

    private TensorData copy(TensorData t) {
        long n = t.data().byteSize();
        bytes += n;
        TensorData scale = t.scale() == null ? null : copy(t.scale());
        return new TensorData(t.name(), t.dtype(), t.shape(), arena.allocate(n).copyFrom(t.data()), scale);
    }

    @Override
    public TensorData tensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) throw new ModelFormatException(where + ": tensor " + name + " is missing from the checkpoint");
        return t;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Nothing is mapped: every byte was copied. */
    @Override
    public long bytesMapped() {
        return 0;
    }

    /** Bytes copied in. */
    public long bytesCopied() {
        return bytes;
    }

    /** Bytes on huge pages (0 where the platform did not allow them). */
    public long hugePageBytes() {
        return arena.hugePageBytes();
    }

    @Override
    public void close() {
        arena.close();
    }
}
