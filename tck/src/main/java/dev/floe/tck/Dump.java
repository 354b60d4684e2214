package dev.floe.tck;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code floe tck --dump DIR}: the arrays a check uploads to the backend, downloads from it and compares against (the
 * float64 oracle), recorded while the check runs and written as NumPy {@code .npy} files when it fails, with
 * {@code check.json} saying how to rerun it. Recording is per thread and off unless a dump folder is set.
 */
public final class Dump {
    private static final ThreadLocal<List<Map.Entry<String, Object>>> RECORDING = new ThreadLocal<>();

    private Dump() {
    }

    static void start() {
        RECORDING.set(new ArrayList<>());
    }

    static List<Map.Entry<String, Object>> stop() {
        List<Map.Entry<String, Object>> r = RECORDING.get();
        RECORDING.remove();
        return r == null ? List.of() : r;
    }

    /** Records an array sent to the backend. */
    public static void input(float[] x) {
        record("input", x.clone());
    }

    /** Records an array read back from the backend. */
    public static void output(float[] x) {
        record("output", x.clone());
    }

    /** Records what the oracle expects. */
    public static void expected(double[] x) {
        record("expected", x.clone());
    }

    private static void record(String kind, Object array) {
        List<Map.Entry<String, Object>> r = RECORDING.get();
        if (r == null) return;
        long n = r.stream().filter(e -> e.getKey().startsWith(kind + "-")).count();
        r.add(Map.entry(kind + "-" + n, array));
    }

    /** Writes the recording of a failed check into {@code dir/<check name>/}. */
    static Path write(Path dir, CheckReport check, long seed, List<Map.Entry<String, Object>> arrays) {
        Path folder = dir.resolve(check.name().replaceAll("[^A-Za-z0-9._=-]", "_"));
        try {
            Files.createDirectories(folder);
            Map<String, Object> meta = new LinkedHashMap<>();
            for (var e : arrays) Files.write(folder.resolve(e.getKey() + ".npy"), npy(e.getValue()));
            meta.put("check", check.name());
            meta.put("seed", seed);
            meta.put("message", check.message());
            meta.put("files", arrays.stream().map(e -> e.getKey() + ".npy").toList());
            meta.put("replay", "floe tck --backend BACKEND --seed " + seed + " --filter '^" + check.name().replace(".", "\\.")
                    .replace("[", "\\[").replace("]", "\\]") + "$'");
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValue(folder.resolve("check.json").toFile(), meta);
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the dump of " + check.name() + " to " + folder, e);
        }
    }

    /** A one-dimensional little-endian {@code <f4} or {@code <f8} array in NumPy's format 1.0. */
    static byte[] npy(Object array) {
        boolean f32 = array instanceof float[];
        int n = f32 ? ((float[]) array).length : ((double[]) array).length;
        String header = "{'descr': '" + (f32 ? "<f4" : "<f8") + "', 'fortran_order': False, 'shape': (" + n + ",), }";
        int total = 10 + header.length() + 1;
        header = header + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + n * (f32 ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.US_ASCII));
        if (f32) for (float f : (float[]) array) b.putFloat(f);
        else for (double d : (double[]) array) b.putDouble(d);
        return b.array();
    }
}
