package dev.floe.spi;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The number formats against tables produced outside Floe ({@code fixtures/fp8-tables.safetensors}: PyTorch's float8
 * casts, every code decoded and ~11,500 values encoded per format) and against hand-checked bit patterns.
 */
class FloatFormatsTest {
    private static final Path TABLES = Path.of(System.getProperty("floe.root", "."), "fixtures", "fp8-tables.safetensors");

    /** One tensor of the tables file as little-endian bytes (a minimal safetensors reader: the spi has no JSON parser). */
    private static ByteBuffer tensor(String name) throws IOException {
        byte[] file = Files.readAllBytes(TABLES);
        ByteBuffer all = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) all.getLong(0);
        String header = new String(file, 8, headerLength, java.nio.charset.StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":\\{[^}]*\"data_offsets\":\\[(\\d+),(\\d+)]").matcher(header);
        assertTrue(m.find(), name + " in " + TABLES);
        int from = 8 + headerLength + Integer.parseInt(m.group(1)), to = 8 + headerLength + Integer.parseInt(m.group(2));
        return ByteBuffer.wrap(file, from, to - from).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void everyFp8CodeDecodesAsPyTorchDoes() throws IOException {
        ByteBuffer e4m3 = tensor("e4m3fn.decode"), e5m2 = tensor("e5m2.decode");
        for (int code = 0; code < 256; code++) {
            assertEquals(Float.floatToIntBits(e4m3.getFloat(4 * code)), Float.floatToIntBits(FloatFormats.e4m3ToFloat(code)), "e4m3 code " + code);
            assertEquals(Float.floatToIntBits(e5m2.getFloat(4 * code)), Float.floatToIntBits(FloatFormats.e5m2ToFloat(code)), "e5m2 code " + code);
        }
    }

    @Test
    void fp8EncodingRoundsToNearestEvenAsPyTorchDoes() throws IOException {
        for (String format : new String[]{"e4m3fn", "e5m2"}) {
            ByteBuffer in = tensor(format + ".encode.input"), codes = tensor(format + ".encode.code");
            int n = codes.remaining();
            assertTrue(n > 10_000, format + ": " + n + " values");
            for (int i = 0; i < n; i++) {
                float x = in.getFloat(4 * i);
                int expected = codes.get(i) & 0xFF;
                int ours = format.equals("e4m3fn") ? FloatFormats.floatToE4m3(x, false) : FloatFormats.floatToE5m2(x, false);
                assertEquals(expected, ours, format + " of " + x);
            }
        }
    }

    @Test
    void fp8OutOfRangeSaturatesOrOverflowsAsAsked() {
        assertEquals(0x7E, FloatFormats.floatToE4m3(1e6f, true), "e4m3 saturates to 448");
        assertEquals(0xFE, FloatFormats.floatToE4m3(-1e6f, true));
        assertEquals(0x7F, FloatFormats.floatToE4m3(1e6f, false), "e4m3 has no infinity: NaN");
        assertEquals(0x7F, FloatFormats.floatToE4m3(Float.NaN, true));
        assertEquals(0x7B, FloatFormats.floatToE5m2(1e6f, true), "e5m2 saturates to 57344");
        assertEquals(0x7C, FloatFormats.floatToE5m2(Float.POSITIVE_INFINITY, false), "e5m2 infinity");
        assertEquals(0x7E, FloatFormats.floatToE5m2(Float.NaN, false), "e5m2's quiet NaN, as PyTorch encodes it");
        assertEquals(0x7E, FloatFormats.floatToE5m2(Float.NaN, true), "NaN does not saturate");
        assertEquals(0xFC, FloatFormats.floatToE5m2(Float.NEGATIVE_INFINITY, false));
        assertEquals(FloatFormats.E4M3_MAX, FloatFormats.e4m3ToFloat(0x7E));
        assertEquals(FloatFormats.E5M2_MAX, FloatFormats.e5m2ToFloat(0x7B));
        assertTrue(Float.isNaN(FloatFormats.e4m3ToFloat(0xFF)));
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3F80, FloatFormats.floatToBf16(1f));
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even mantissa (1.0)
        assertEquals((short) 0x3F80, FloatFormats.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3 * 2^-8 is halfway too: the even neighbour is above
        assertEquals((short) 0x3F82, FloatFormats.floatToBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals((short) 0x3F81, FloatFormats.floatToBf16(Float.intBitsToFloat(0x3F808001)), "just above halfway rounds up");
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(Float.NaN))));
        assertTrue(Float.isNaN(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(Float.intBitsToFloat(0x7F800001)))),
                "a NaN whose payload sits in the low bits must not become infinity");
        assertEquals(-2.5f, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(-2.5f)));
        assertEquals(0.10009765625f, FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(0.1f)), "0x3DCCCCCD rounds up to 0x3DCD");
        assertEquals(1.5f, FloatFormats.f16ToFloat(FloatFormats.floatToF16(1.5f)));
    }

    private static TensorData tensor(String name, DType dtype, long[] shape, float... values) {
        MemorySegment data = Arena.ofAuto().allocate((long) values.length * dtype.bytes());
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, FloatFormats.floatToBf16(values[i]));
                case F8_E4M3 -> data.set(ValueLayout.JAVA_BYTE, i, (byte) FloatFormats.floatToE4m3(values[i], true));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        return new TensorData(name, dtype, shape, data, null);
    }

    @Test
    void toFloatsAppliesPerRowAndScalarScales() {
        TensorData w = tensor("w", DType.F8_E4M3, new long[]{2, 3}, 1, 2, 3, 4, 5, 6);
        float[] perRow = FloatFormats.toFloats(w.withScale(tensor("w_scale", DType.F32, new long[]{2}, 0.5f, 10f)));
        assertEquals(java.util.List.of(0.5f, 1f, 1.5f, 40f, 50f, 60f), boxed(perRow));
        float[] scalar = FloatFormats.toFloats(w.withScale(tensor("w_scale", DType.F32, new long[]{1}, 2f)));
        assertEquals(java.util.List.of(2f, 4f, 6f, 8f, 10f, 12f), boxed(scalar));
        assertEquals(java.util.List.of(1f, 2f, 3f, 4f, 5f, 6f), boxed(FloatFormats.toFloats(w)));
        assertEquals(1.5f, FloatFormats.read(tensor("b", DType.BF16, new long[]{2}, 0.25f, 1.5f), 1));
    }

    @Test
    void badScalesAreRejectedWithTheirNames() {
        TensorData w = tensor("w", DType.F8_E4M3, new long[]{2, 3}, 1, 2, 3, 4, 5, 6);
        FloatFormats.checkScale(w);
        FloatFormats.checkScale(w.withScale(tensor("w_scale", DType.F32, new long[]{1}, 1f)));
        FloatFormats.checkScale(w.withScale(tensor("w_scale", DType.BF16, new long[]{2}, 1f, 1f)));
        String count = assertThrows(ModelFormatException.class,
                () -> FloatFormats.checkScale(w.withScale(tensor("w_scale", DType.F32, new long[]{3}, 1f, 1f, 1f))))
                .getMessage();
        assertEquals("tensor w_scale: shape [3] does not fit w [2, 3] (expected a scalar, [2] or [2, 1]; a block grid needs "
                + "weight_block_size in quantization_config)", count);
        TensorData intScale = new TensorData("w_scale", DType.I32, new long[]{1}, Arena.ofAuto().allocate(4), null);
        assertTrue(assertThrows(ModelFormatException.class, () -> FloatFormats.checkScale(w.withScale(intScale)))
                .getMessage().contains("w_scale: scale dtype I32 is not a float type"));
    }

    private static java.util.List<Float> boxed(float[] a) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        for (float f : a) out.add(f);
        return out;
    }
}
