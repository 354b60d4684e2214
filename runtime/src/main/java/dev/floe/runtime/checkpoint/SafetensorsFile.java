package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}}), then the raw data. The header is validated completely on open
 * (lengths, dtypes, shapes against sizes, offsets in bounds and not overlapping), so a tensor handed out is always
 * well-formed; the data itself is read lazily by whoever touches the mapping.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are refused: real checkpoints have headers of a few MB at most. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    /** Where one tensor lies in the file. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates a file. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment all = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw bad(path, "header length " + headerLen + " is impossible for a file of " + size + " bytes");
            }
            byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw bad(path, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) throw bad(path, "header is not a JSON object");
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = parseEntries(path, header, data.byteSize(), metadata);
            return new SafetensorsFile(path, arena, data, entries, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Entry> parseEntries(Path path, JsonNode header, long dataSize, Map<String, String> metadata) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode node = f.getValue();
            if (name.equals("__metadata__")) {
                if (node.isObject()) node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            if (!node.isObject()) throw bad(path, "tensor " + name + ": header entry is not an object");
            String dtypeName = node.path("dtype").asText(null);
            DType dtype = DType.fromSafetensors(dtypeName);
            if (dtype == null) throw bad(path, "tensor " + name + ": unknown dtype " + node.path("dtype"));
            JsonNode shapeNode = node.path("shape");
            if (!shapeNode.isArray()) throw bad(path, "tensor " + name + ": shape " + shapeNode + " is not an array");
            long[] shape = new long[shapeNode.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                    throw bad(path, "tensor " + name + ": shape " + shapeNode + " has an invalid dimension " + d);
                }
                shape[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException e) {
                    throw bad(path, "tensor " + name + ": shape " + shapeNode + " overflows");
                }
            }
            JsonNode off = node.path("data_offsets");
            if (!off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
                throw bad(path, "tensor " + name + ": data_offsets " + off + " is not a pair of integers");
            }
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw bad(path, "tensor " + name + ": data_offsets [" + begin + ", " + end + ") out of bounds of "
                        + dataSize + " data bytes");
            }
            long expected;
            try {
                expected = Math.multiplyExact(numel, dtype.bytes());
            } catch (ArithmeticException e) {
                throw bad(path, "tensor " + name + ": shape " + shapeNode + " overflows");
            }
            if (end - begin != expected) {
                throw bad(path, "tensor " + name + ": shape " + shapeNode + " of " + dtype + " needs " + expected
                        + " bytes but data_offsets [" + begin + ", " + end + ") hold " + (end - begin));
            }
            entries.put(name, new Entry(name, dtype, shape, begin, end));
        }
        checkOverlaps(path, entries);
        return Collections.unmodifiableMap(entries);
    }

    private static void checkOverlaps(Path path, Map<String, Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() == e.end()) continue;
            if (prev != null && e.begin() < prev.end()) {
                throw bad(path, "tensors " + prev.name() + " [" + prev.begin() + ", " + prev.end() + ") and " + e.name()
                        + " [" + e.begin() + ", " + e.end() + ") overlap");
            }
            prev = e;
        }
    }

    private static ModelFormatException bad(Path path, String what) {
        return new ModelFormatException(path + ": " + what);
    }

    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The {@code __metadata__} strings. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A tensor as a slice of the mapping (no copy). */
    public TensorData tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new ModelFormatException(path + ": no tensor named " + name);
        return new TensorData(name, e.dtype(), e.shape(), mapping.asSlice(e.begin(), e.end() - e.begin()), null);
    }

    /** Dtype and shape of a tensor without touching its data. */
    public DType dtype(String name) {
        return entry(name).dtype();
    }

    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new ModelFormatException(path + ": no tensor named " + name);
        return e;
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
