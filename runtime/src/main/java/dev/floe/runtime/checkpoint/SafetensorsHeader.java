package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
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
 * The header of a safetensors file, read and validated without touching (or mapping) the data: an 8-byte
 * little-endian header length, a JSON object {@code name -> {dtype, shape, data_offsets}} and optional
 * {@code __metadata__}. Lengths, dtypes, shapes against sizes and offsets (in bounds, not overlapping) are all checked,
 * so a header handed out is well-formed. Reading only headers is what lets {@code floe inspect} and {@code floe plan}
 * work on a checkpoint far larger than the machine, or on one whose data is left as holes.
 *
 * @param path       the file
 * @param dataOffset where the data section starts in the file
 * @param dataBytes  bytes of the data section (the file's size minus the header)
 * @param tensors    tensors in header order
 * @param metadata   the {@code __metadata__} strings
 */
public record SafetensorsHeader(Path path, long dataOffset, long dataBytes, Map<String, TensorHeader> tensors,
                                Map<String, String> metadata) {
    /** Headers larger than this are refused: real checkpoints have headers of a few MB at most. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads and validates the header of a file. */
    public static SafetensorsHeader read(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(path, ch);
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Reads and validates the header from an open channel of {@code path}. */
    static SafetensorsHeader read(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
        long headerLen = readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
            throw bad(path, "header length " + headerLen + " is impossible for a file of " + size + " bytes");
        }
        ByteBuffer headerBytes = readFully(ch, 8, (int) headerLen);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw bad(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) throw bad(path, "header is not a JSON object");
        long dataBytes = size - 8 - headerLen;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorHeader> tensors = parseEntries(path, header, dataBytes, metadata);
        return new SafetensorsHeader(path, 8 + headerLen, dataBytes, tensors, Collections.unmodifiableMap(metadata));
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) throw new IOException("unexpected end of file at " + (position + b.position()));
        }
        return b.flip();
    }

    private static Map<String, TensorHeader> parseEntries(Path path, JsonNode header, long dataSize, Map<String, String> metadata) {
        Map<String, TensorHeader> entries = new LinkedHashMap<>();
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
            entries.put(name, new TensorHeader(name, dtype, shape, begin, end));
        }
        checkOverlaps(path, entries);
        return Collections.unmodifiableMap(entries);
    }

    private static void checkOverlaps(Path path, Map<String, TensorHeader> entries) {
        List<TensorHeader> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(TensorHeader::begin).thenComparingLong(TensorHeader::end));
        TensorHeader prev = null;
        for (TensorHeader e : sorted) {
            if (e.begin() == e.end()) continue;
            if (prev != null && e.begin() < prev.end()) {
                throw bad(path, "tensors " + prev.name() + " [" + prev.begin() + ", " + prev.end() + ") and " + e.name()
                        + " [" + e.begin() + ", " + e.end() + ") overlap");
            }
            prev = e;
        }
    }

    static ModelFormatException bad(Path path, String what) {
        return new ModelFormatException(path + ": " + what);
    }

    /** The tensor named {@code name}; the error names the file. */
    public TensorHeader tensor(String name) {
        TensorHeader e = tensors.get(name);
        if (e == null) throw new ModelFormatException(path + ": no tensor named " + name);
        return e;
    }
}
