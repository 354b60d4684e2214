package dev.floe.tck.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tensors of {@code fixtures/fp8-tables.safetensors}. Read here rather than with the runtime's
 * {@code SafetensorsFile}, which (rightly, for checkpoints) refuses the file's U8 code tensors.
 */
record Fp8Tables(ByteBuffer data, JsonNode header) {
    static Fp8Tables read(Path file) {
        try {
            ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            int n = Math.toIntExact(all.getLong(0));
            JsonNode header = new ObjectMapper().readTree(new String(all.array(), 8, n, StandardCharsets.UTF_8));
            return new Fp8Tables(all.slice(8 + n, all.capacity() - 8 - n).order(ByteOrder.LITTLE_ENDIAN), header);
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException(file + ": not a readable safetensors file: " + e, e instanceof IOException io ? io : new IOException(e));
        }
    }

    private JsonNode entry(String name, String dtype) {
        JsonNode e = header.get(name);
        if (e == null || !dtype.equals(e.path("dtype").asText())) {
            throw new IllegalStateException("fp8 tables: tensor " + name + " of dtype " + dtype + " is missing");
        }
        return e;
    }

    float[] floats(String name) {
        JsonNode e = entry(name, "F32");
        int begin = e.path("data_offsets").get(0).asInt(), end = e.path("data_offsets").get(1).asInt();
        float[] out = new float[(end - begin) / 4];
        for (int i = 0; i < out.length; i++) out[i] = data.getFloat(begin + 4 * i);
        return out;
    }

    int[] codes(String name) {
        JsonNode e = entry(name, "U8");
        int begin = e.path("data_offsets").get(0).asInt(), end = e.path("data_offsets").get(1).asInt();
        int[] out = new int[end - begin];
        for (int i = 0; i < out.length; i++) out[i] = data.get(begin + i) & 0xFF;
        return out;
    }
}
