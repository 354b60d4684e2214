package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.TensorData;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes tensors into one safetensors file (header padded to 8 bytes, data in the order given). */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /** Writes {@code tensors} to {@code file}, with optional {@code __metadata__}. Scales are not written implicitly. */
    public static void write(Path file, List<TensorData> tensors, Map<String, String> metadata) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) header.set("__metadata__", json.valueToTree(new LinkedHashMap<>(metadata)));
        long offset = 0;
        for (TensorData t : tensors) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.dtype().safetensorsName());
            var shape = e.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long size = t.data().byteSize();
            e.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (head.length + 7) / 8 * 8;
        byte[] headPadded = new byte[padded];
        java.util.Arrays.fill(headPadded, (byte) ' ');
        System.arraycopy(head, 0, headPadded, 0, head.length);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(headPadded);
            byte[] chunk = new byte[1 << 20];
            for (TensorData t : tensors) {
                MemorySegment d = t.data();
                for (long pos = 0; pos < d.byteSize(); pos += chunk.length) {
                    int n = (int) Math.min(chunk.length, d.byteSize() - pos);
                    MemorySegment.copy(d, ValueLayout.JAVA_BYTE, pos, chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
