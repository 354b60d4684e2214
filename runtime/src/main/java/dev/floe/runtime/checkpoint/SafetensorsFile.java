package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped safetensors file. The header is read and validated completely on open by
 * {@link SafetensorsHeader} (lengths, dtypes, shapes against sizes, offsets in bounds and not overlapping), so a
 * tensor handed out is always well-formed; the data itself is read lazily by whoever touches the mapping.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment mapping;
    private final SafetensorsHeader header;

    private SafetensorsFile(Arena arena, MemorySegment mapping, SafetensorsHeader header) {
        this.arena = arena;
        this.mapping = mapping;
        this.header = header;
    }

    /** Maps and validates a file. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(path, ch);
            MemorySegment data = header.dataBytes() == 0 ? MemorySegment.NULL.reinterpret(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, header.dataOffset(), header.dataBytes(), arena);
            return new SafetensorsFile(arena, data, header);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The validated header. */
    public SafetensorsHeader header() {
        return header;
    }

    public Path path() {
        return header.path();
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return List.copyOf(header.tensors().keySet());
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** The {@code __metadata__} strings. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** A tensor as a slice of the mapping (no copy). */
    public TensorData tensor(String name) {
        TensorHeader e = header.tensor(name);
        return new TensorData(name, e.dtype(), e.shape(), mapping.asSlice(e.begin(), e.end() - e.begin()), null);
    }

    /** Dtype and shape of a tensor without touching its data. */
    public DType dtype(String name) {
        return header.tensor(name).dtype();
    }

    public long[] shape(String name) {
        return header.tensor(name).shape();
    }

    /** Bytes of tensor data mapped. */
    public long dataBytes() {
        return mapping.byteSize();
    }

    /** Unmaps the file; tensors handed out become unusable. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
