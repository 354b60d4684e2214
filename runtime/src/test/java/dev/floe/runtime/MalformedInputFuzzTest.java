package dev.floe.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.FloeException;
import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.tokenizer.HfTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random corruption of a checkpoint's safetensors header, its {@code config.json} and a {@code tokenizer.json}:
 * each mutant either loads (and then runs a forward pass) or fails with a {@link FloeException} whose message starts
 * with the path of the folder or file at fault (a corrupt header names {@code model.safetensors}, a config value the
 * field, a shape the tensor; the exact wording is {@link LoadingErrorsTest}'s business).
 * Anything else (a NullPointerException, an index or arithmetic error, an OutOfMemoryError from a size taken on trust)
 * fails the test with the seed that reproduces it.
 */
class MalformedInputFuzzTest {
    private static final Path MIXTRAL = LoadingErrorsTest.MIXTRAL;
    private static final Path BUILT_IN = LoadingErrorsTest.BUILT_IN;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CASES = Integer.getInteger("fuzz.cases", 150);
    /** Numbers a corrupted field is set to: the edges of every integer type, zero, negatives, fractions. */
    private static final String[] NUMBERS = {"0", "-1", "1", "2", "7", "1.5", "-0.0", "1e308", "2147483647", "2147483648",
            "4294967296", "9223372036854775807", "99999999999999999999", "-9223372036854775808"};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"fixtures/tiny-mixtral", "fixtures/tiny-arctic-fp8"})
    void safetensorsHeaderNumbers(String fixture) throws IOException {
        Path source = GoldenFixturesTest.root().resolve(fixture);
        byte[] file = Files.readAllBytes(source.resolve("model.safetensors"));
        long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, (int) headerLength, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("-?\\d+").matcher(header);
        List<int[]> numbers = new ArrayList<>();
        while (m.find()) numbers.add(new int[]{m.start(), m.end()});
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            StringBuilder h = new StringBuilder(header);
            int[] at = numbers.get(rnd.nextInt(numbers.size()));
            String number = NUMBERS[rnd.nextInt(NUMBERS.length)];
            h.replace(at[0], at[1], number);
            Path dir = folder(source, "st-numbers-" + seed);
            Files.write(dir.resolve("model.safetensors"), safetensors(h.toString(), file, 8 + (int) headerLength));
            loadOrFail(dir, "model.safetensors header (" + header.substring(Math.max(0, at[0] - 40), at[1]) + " -> "
                    + number + ")", seed);
        }
    }

    @Test
    void safetensorsBytes() throws IOException {
        byte[] file = Files.readAllBytes(MIXTRAL.resolve("model.safetensors"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            byte[] b = file.clone();
            switch (seed % 3) {
                case 0 -> b[rnd.nextInt(8)] = (byte) rnd.nextInt(256);
                case 1 -> {
                    for (int i = 0; i < 3; i++) b[8 + rnd.nextInt(headerEnd - 8)] = (byte) rnd.nextInt(256);
                }
                default -> b = Arrays.copyOf(b, rnd.nextInt(file.length));
            }
            Path dir = folder(MIXTRAL, "st-bytes-" + seed);
            Files.write(dir.resolve("model.safetensors"), b);
            loadOrFail(dir, "model.safetensors", seed);
        }
    }

    @Test
    void configValues() throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(MIXTRAL.resolve("config.json").toFile());
        List<String> fields = new ArrayList<>();
        config.fieldNames().forEachRemaining(fields::add);
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            ObjectNode c = config.deepCopy();
            String field = fields.get(rnd.nextInt(fields.size()));
            switch (rnd.nextInt(4)) {
                case 0 -> c.remove(field);
                case 1 -> c.put(field, "x");
                case 2 -> c.putNull(field);
                default -> c.set(field, JSON.readTree(NUMBERS[rnd.nextInt(NUMBERS.length)]));
            }
            Path dir = folder(MIXTRAL, "config-" + seed);
            Files.writeString(dir.resolve("config.json"), c.toString());
            loadOrFail(dir, "config.json " + field + " = " + c.get(field), seed);
        }
    }

    @Test
    void tokenizerValues() throws IOException {
        JsonNode tokenizer = JSON.readTree(BUILT_IN.resolve("tokenizer.json").toFile());
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            JsonNode t = tokenizer.deepCopy();
            String change = corrupt(t, rnd);
            Path dir = tmp.resolve("tokenizer-" + seed);
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("tokenizer.json"), t.toString());
            try {
                var tok = HfTokenizer.load(dir);
                tok.decode(tok.encode("def f(x):\n    return x  # é 😀", true), false);
            } catch (FloeException e) {
                if (!e.getMessage().startsWith(dir.resolve("tokenizer.json").toString())) {
                    fail("seed " + seed + " (" + change + "): the error does not start with the path of tokenizer.json: " + e.getMessage());
                }
            } catch (Throwable e) {
                throw new AssertionError("seed " + seed + " (" + change + "): " + e, e);
            }
        }
    }

    /**
     * Replaces one randomly chosen value of the tree (the vocabulary and merges only as a whole) or removes it, and
     * says which.
     */
    private static String corrupt(JsonNode root, Random rnd) {
        List<Map.Entry<JsonNode, String>> slots = new ArrayList<>();
        collect(root, slots);
        Map.Entry<JsonNode, String> slot = slots.get(rnd.nextInt(slots.size()));
        JsonNode whole = slot.getKey().get(slot.getValue());
        if (whole != null && whole.size() > 1000 && rnd.nextBoolean()) slot = entryOf(whole, rnd); // one vocab entry or merge
        JsonNode parent = slot.getKey();
        JsonNode value = switch (rnd.nextInt(4)) {
            case 0 -> null;
            case 1 -> JSON.getNodeFactory().textNode(rnd.nextBoolean() ? "" : "x");
            case 2 -> JSON.getNodeFactory().nullNode();
            default -> JSON.getNodeFactory().numberNode(new long[]{0, -1, 1, Integer.MAX_VALUE, 99_999_999}[rnd.nextInt(5)]);
        };
        if (parent instanceof ObjectNode o) {
            if (value == null) o.remove(slot.getValue());
            else o.set(slot.getValue(), value);
        } else if (parent instanceof ArrayNode a) {
            int i = Integer.parseInt(slot.getValue());
            if (value == null) a.remove(i);
            else a.set(i, value);
        }
        return slot.getValue() + (value == null ? " removed" : " = " + value);
    }

    /** A random entry of a large object (the vocabulary) or array (the merges). */
    private static Map.Entry<JsonNode, String> entryOf(JsonNode container, Random rnd) {
        int k = rnd.nextInt(container.size());
        if (container.isArray()) return Map.entry(container, Integer.toString(k));
        Iterator<String> names = container.fieldNames();
        for (int i = 0; i < k; i++) names.next();
        return Map.entry(container, names.next());
    }

    private static void collect(JsonNode node, List<Map.Entry<JsonNode, String>> slots) {
        if (node instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("vocab") || e.getKey().equals("merges")) {
                    slots.add(Map.entry(node, e.getKey()));
                    continue;
                }
                slots.add(Map.entry(node, e.getKey()));
                collect(e.getValue(), slots);
            }
        } else if (node.isArray() && node.size() < 1000) {
            for (int i = 0; i < node.size(); i++) {
                slots.add(Map.entry(node, Integer.toString(i)));
                collect(node.get(i), slots);
            }
        }
    }

    /** A model folder holding a fixture's files, for one mutant to overwrite. */
    private Path folder(Path fixture, String name) throws IOException {
        Path dir = tmp.resolve(fixture.getFileName() + "-" + name);
        Files.createDirectories(dir);
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(fixture.resolve(f), dir.resolve(f));
        return dir;
    }

    private static byte[] safetensors(String header, byte[] file, int dataStart) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + file.length - dataStart).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(file, dataStart, file.length - dataStart);
        return b.array();
    }

    /** Loads the folder and runs one forward pass, or expects a FloeException that names the folder. */
    private static void loadOrFail(Path dir, String what, int seed) {
        try (FloeModel model = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             Session session = model.newSession(Math.min(8, model.config().maxPositions()))) {
            int[] prompt = Arrays.copyOf(new int[]{1, 2, 3}, Math.min(3, session.capacity()));
            session.prefillLast(prompt);
            if (session.capacity() > prompt.length) session.next(4);
        } catch (FloeException e) {
            if (!e.getMessage().startsWith(dir.toString())) {
                fail("seed " + seed + ": corrupt " + what + ": the error does not start with the path: " + e.getMessage());
            }
        } catch (Throwable e) {
            throw new AssertionError("seed " + seed + ": corrupt " + what + " gave " + e, e);
        }
    }
}
