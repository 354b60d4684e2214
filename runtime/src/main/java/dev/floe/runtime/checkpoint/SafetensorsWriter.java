package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.DType;
import dev.floe.api.TensorData;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one safetensors file: the header (padded to 8 bytes) first, then each tensor's bytes streamed in order, so
 * tensors can be produced one at a time (as the FP8 quantiser does) without holding the file in memory. The file
 * appears atomically when complete.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /** Produces a tensor's bytes on demand. */
    @FunctionalInterface
    public interface Data {
        void writeTo(OutputStream out) throws IOException;
    }

    /** One tensor to write: its header entry and its bytes, exactly {@code numel * dtype.bytes()} of them. */
    public record Item(String name, DType dtype, long[] shape, Data data) {
        long byteSize() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact) * dtype.bytes();
        }
    }

    /** An item that copies a tensor's data. */
    public static Item of(TensorData t) {
        return new Item(t.name(), t.dtype(), t.shape(), out -> copy(t.data(), out));
    }

    /** Writes tensors (their scales are not written implicitly). */
    public static void write(Path file, List<TensorData> tensors, Map<String, String> metadata) {
        writeItems(file, tensors.stream().map(SafetensorsWriter::of).toList(), metadata);
    }

    /** Writes items in order, with optional {@code __metadata__}. */
    public static void writeItems(Path file, List<Item> items, Map<String, String> metadata) {
        byte[] padded = header(items, metadata);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
            out.write(padded);
            for (Item t : items) {
                CountingStream counting = new CountingStream(out);
                t.data().writeTo(counting);
                if (counting.count != t.byteSize()) {
                    throw new IllegalStateException("tensor " + t.name() + " produced " + counting.count + " bytes, expected " + t.byteSize());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the header of {@code items} and leaves their data as a hole: the file has its full size but the file
     * system stores no blocks for the data (it reads as zeros). A real checkpoint's layout without its bytes, for
     * {@code floe plan} and {@code floe inspect} tests on models far larger than the disk; the items' data is not used.
     */
    public static void writeSparse(Path file, List<Item> items, Map<String, String> metadata) {
        byte[] padded = header(items, metadata);
        long dataBytes = items.stream().mapToLong(Item::byteSize).sum();
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(0);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
            out.write(padded);
            out.setLength(8L + padded.length + dataBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The JSON header of {@code items} laid out back to back, padded with spaces to a multiple of 8 bytes. */
    private static byte[] header(List<Item> items, Map<String, String> metadata) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) header.set("__metadata__", json.valueToTree(new LinkedHashMap<>(metadata)));
        long offset = 0;
        for (Item t : items) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.dtype().safetensorsName());
            var shape = e.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            e.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(head, (head.length + 7) / 8 * 8);
        Arrays.fill(padded, head.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void copy(MemorySegment d, OutputStream out) throws IOException {
        byte[] chunk = new byte[1 << 20];
        for (long pos = 0; pos < d.byteSize(); pos += chunk.length) {
            int n = (int) Math.min(chunk.length, d.byteSize() - pos);
            MemorySegment.copy(d, ValueLayout.JAVA_BYTE, pos, chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        long count;

        CountingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
