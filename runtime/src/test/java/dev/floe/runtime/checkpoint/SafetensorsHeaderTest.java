package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * safetensors headers written byte by byte: every bound checked on both sides (the last value accepted, the first
 * rejected), each error naming the file, the tensor and the value.
 */
class SafetensorsHeaderTest {
    @TempDir
    Path dir;

    /** A file of the 8-byte length, the header text and {@code data} zero bytes. */
    private Path file(String header, int data) throws IOException {
        return raw(header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    private Path raw(long declaredLength, String header, int data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(h);
        Path p = dir.resolve("model.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private String rejected(String header, int data) throws IOException {
        Path p = file(header, data);
        String m = assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(p)).getMessage();
        assertTrue(m.startsWith(p + ": "), m);
        return m.substring(p.toString().length() + 2);
    }

    private static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void aWellFormedHeader() throws IOException {
        Path p = file("{\"__metadata__\":{\"format\":\"pt\",\"n\":3}," + tensor("a", "F32", "[2,3]", 0, 24) + ","
                + tensor("b", "BF16", "[4]", 24, 32) + "}", 32);
        SafetensorsHeader h = SafetensorsHeader.read(p);
        assertEquals(List.of("a", "b"), List.copyOf(h.tensors().keySet()), "header order");
        assertEquals(Map.of("format", "pt", "n", "3"), h.metadata());
        TensorHeader a = h.tensor("a");
        assertEquals(DType.F32, a.dtype());
        assertArrayEquals(new long[]{2, 3}, a.shape());
        assertEquals(6, a.numel());
        assertEquals(24, a.bytes());
        assertEquals(24, h.tensor("b").begin());
        long headerLength = Files.size(p) - 8 - 32;
        assertEquals(8 + headerLength, h.dataOffset());
        assertEquals(32, h.dataBytes());
        assertEquals(p + ": no tensor named c", assertThrows(ModelFormatException.class, () -> h.tensor("c")).getMessage());
        assertEquals("a F32 [2, 3]", a.toString());
        assertEquals(new TensorHeader("a", DType.F32, new long[]{2, 3}, 0, 24), a);
        assertEquals(new TensorHeader("a", DType.F32, new long[]{2, 3}, 0, 24).hashCode(), a.hashCode());
        assertNotEquals(new TensorHeader("a", DType.F32, new long[]{2, 3}, 0, 25), a);
        assertNotEquals(new TensorHeader("a", DType.F32, new long[]{2, 3}, 1, 24), a);
        assertNotEquals(new TensorHeader("a", DType.F16, new long[]{2, 3}, 0, 24), a);
        assertNotEquals(new TensorHeader("a", DType.F32, new long[]{3, 2}, 0, 24), a);
        assertNotEquals(new TensorHeader("x", DType.F32, new long[]{2, 3}, 0, 24), a);
    }

    @Test
    void emptyHeadersAndMetadataThatIsNotAnObject() throws IOException {
        SafetensorsHeader empty = SafetensorsHeader.read(file("{}", 0));
        assertTrue(empty.tensors().isEmpty());
        assertEquals(10, empty.dataOffset(), "8 + the 2-byte header");
        assertTrue(SafetensorsHeader.read(file("{\"__metadata__\":\"x\"}", 0)).metadata().isEmpty());
    }

    @Test
    void theHeaderLengthMustFitTheFile() throws IOException {
        Path seven = dir.resolve("seven.safetensors");
        Files.write(seven, new byte[7]);
        assertEquals(seven + ": file is 7 bytes, shorter than the 8-byte header length",
                assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(seven)).getMessage());
        Path eight = raw(0, "", 0);
        assertEquals(eight + ": header length 0 is impossible for a file of 8 bytes",
                assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(eight)).getMessage());
        Path one = raw(1, "{", 0);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(one)).getMessage().contains("header length 1 is impossible"));
        Path beyond = raw(4, "{}", 1);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(beyond)).getMessage()
                .contains("header length 4 is impossible for a file of 11 bytes"));
        assertEquals(0, SafetensorsHeader.read(raw(3, "{} ", 0)).dataBytes(), "a header that ends the file exactly");
        Path huge = raw(SafetensorsHeader.MAX_HEADER_BYTES + 1, "{}", 0);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(huge)).getMessage()
                .contains("header length " + (SafetensorsHeader.MAX_HEADER_BYTES + 1) + " is impossible"));
        Path negative = raw(-2, "{}", 0);
        assertTrue(assertThrows(ModelFormatException.class, () -> SafetensorsHeader.read(negative)).getMessage().contains("header length -2"));
    }

    @Test
    void theHeaderMustBeAJsonObjectOfObjects() throws IOException {
        assertTrue(rejected("{\"a\":", 0).startsWith("header is not valid JSON"));
        assertEquals("header is not a JSON object", rejected("[1]", 0));
        assertEquals("tensor a: header entry is not an object", rejected("{\"a\":[1]}", 0));
        assertEquals("tensor a: unknown dtype \"F64\"", rejected("{" + tensor("a", "F64", "[1]", 0, 8) + "}", 8));
        assertEquals("tensor a: unknown dtype ", rejected("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "no dtype at all");
    }

    @Test
    void shapesAreNonNegativeIntegersThatDoNotOverflow() throws IOException {
        assertEquals("tensor a: shape \"2\" is not an array", rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8));
        assertEquals("tensor a: shape [2,-1] has an invalid dimension -1", rejected("{" + tensor("a", "F32", "[2,-1]", 0, 0) + "}", 0));
        assertEquals("tensor a: shape [1.5] has an invalid dimension 1.5", rejected("{" + tensor("a", "F32", "[1.5]", 0, 4) + "}", 4));
        assertEquals("tensor a: shape [\"1\"] has an invalid dimension \"1\"", rejected("{" + tensor("a", "F32", "[\"1\"]", 0, 4) + "}", 4));
        assertTrue(rejected("{" + tensor("a", "F32", "[18446744073709551616]", 0, 4) + "}", 4).contains("invalid dimension"));
        assertEquals("tensor a: shape [4294967296,4294967296] overflows",
                rejected("{" + tensor("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4));
        assertEquals("tensor a: shape [2305843009213693952] overflows",
                rejected("{" + tensor("a", "F32", "[2305843009213693952]", 0, 4) + "}", 4), "2^61 elements of 4 bytes");
        SafetensorsHeader zero = SafetensorsHeader.read(file("{" + tensor("a", "F32", "[0,5]", 0, 0) + "," + tensor("s", "F32", "[]", 0, 4) + "}", 4));
        assertEquals(0, zero.tensor("a").numel(), "a zero dimension is allowed");
        assertEquals(1, zero.tensor("s").numel(), "a scalar has one element");
    }

    @Test
    void offsetsAreInBoundsAndMatchTheShape() throws IOException {
        assertEquals("tensor a: data_offsets [0] is not a pair of integers",
                rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4));
        assertTrue(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8).contains("not a pair"));
        assertTrue(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}}", 4).contains("not a pair"));
        assertTrue(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4).contains("not a pair"));
        assertTrue(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4).contains("not a pair"));
        assertEquals("tensor a: data_offsets [-4, 0) out of bounds of 4 data bytes", rejected("{" + tensor("a", "F32", "[1]", -4, 0) + "}", 4));
        assertEquals("tensor a: data_offsets [4, 0) out of bounds of 4 data bytes", rejected("{" + tensor("a", "F32", "[1]", 4, 0) + "}", 4));
        assertEquals("tensor a: data_offsets [4, 8) out of bounds of 7 data bytes", rejected("{" + tensor("a", "F32", "[1]", 4, 8) + "}", 7));
        assertEquals(8, SafetensorsHeader.read(file("{" + tensor("a", "F32", "[1]", 4, 8) + "}", 8)).tensor("a").end(), "end at the last byte");
        assertEquals("tensor a: shape [3] of F32 needs 12 bytes but data_offsets [0, 8) hold 8",
                rejected("{" + tensor("a", "F32", "[3]", 0, 8) + "}", 8));
        assertTrue(rejected("{" + tensor("a", "F32", "[1]", 0, 8) + "}", 8).contains("needs 4 bytes"));
        assertEquals("tensor a: shape [1] of F32 needs 4 bytes but data_offsets [4, 12) hold 8",
                rejected("{" + tensor("a", "F32", "[1]", 4, 12) + "}", 12), "the size held is end - begin");
    }

    @Test
    void tensorsMustNotOverlap() throws IOException {
        assertEquals("tensors a [0, 8) and b [4, 12) overlap",
                rejected("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F32", "[2]", 4, 12) + "}", 12));
        assertEquals("tensors b [0, 8) and a [7, 11) overlap",
                rejected("{" + tensor("a", "F32", "[1]", 7, 11) + "," + tensor("b", "F32", "[2]", 0, 8) + "}", 12), "found in offset order");
        assertEquals("tensors a [0, 4) and b [0, 8) overlap",
                rejected("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[2]", 0, 8) + "}", 8));
        SafetensorsHeader adjacent = SafetensorsHeader.read(file("{" + tensor("b", "F32", "[1]", 4, 8) + "," + tensor("a", "F32", "[1]", 0, 4)
                + "," + tensor("z", "F32", "[0]", 2, 2) + "," + tensor("y", "F32", "[0]", 8, 8) + "}", 8));
        assertEquals(4, adjacent.tensors().size(), "touching tensors and empty ones inside or after others are fine");
    }
}
