package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in model's tokenizer against the ids Hugging Face tokenizers produced (tokenizer-golden.json). */
class GoldenTokenizerTest {

    static final Path MODEL = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");

    record Case(String text, int[] ids, int[] idsNoSpecial, List<String> tokens, String decoded) {}

    static HfTokenizer tokenizer;
    static List<Case> cases;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = HfTokenizer.load(MODEL);
        JsonNode golden = new ObjectMapper().readTree(MODEL.resolve("tokenizer-golden.json").toFile());
        cases = new ArrayList<>();
        for (JsonNode c : golden.get("cases")) {
            List<String> tokens = new ArrayList<>();
            c.get("tokens").forEach(t -> tokens.add(t.textValue()));
            cases.add(new Case(c.get("text").textValue(), ints(c.get("ids")), ints(c.get("ids_no_special")), tokens,
                    c.get("decoded").textValue()));
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).intValue();
        }
        return out;
    }

    @Test
    void allFortyCasesArePresent() {
        assertEquals(40, cases.size());
    }

    @TestFactory
    Stream<DynamicTest> encodesWithSpecialTokens() {
        return cases.stream().map(c -> DynamicTest.dynamicTest(repr(c.text()), () -> {
            assertArrayEquals(c.ids(), tokenizer.encode(c.text(), true), () -> "tokens " + tokenizer.tokens(c.text(), true));
            assertEquals(c.tokens(), tokenizer.tokens(c.text(), true));
        }));
    }

    @TestFactory
    Stream<DynamicTest> encodesWithoutSpecialTokens() {
        return cases.stream().map(c -> DynamicTest.dynamicTest(repr(c.text()),
                () -> assertArrayEquals(c.idsNoSpecial(), tokenizer.encode(c.text(), false))));
    }

    @TestFactory
    Stream<DynamicTest> decodesBack() {
        return cases.stream().map(c -> DynamicTest.dynamicTest(repr(c.text()), () -> {
            assertEquals(c.decoded(), tokenizer.decode(c.ids(), true));
            assertEquals(c.decoded(), tokenizer.decode(c.idsNoSpecial(), true));
        }));
    }

    @TestFactory
    Stream<DynamicTest> streamingEqualsBatch() {
        return cases.stream().flatMap(c -> Stream.of(true, false).map(skip ->
                DynamicTest.dynamicTest(repr(c.text()) + " skipSpecial=" + skip, () -> {
                    assertEquals(tokenizer.decode(c.ids(), skip), stream(tokenizer, c.ids(), skip));
                    assertEquals(tokenizer.decode(c.idsNoSpecial(), skip), stream(tokenizer, c.idsNoSpecial(), skip));
                })));
    }

    @Test
    void streamingNeverEmitsPartialCharacters() {
        // "emoji 🚀🔥 ok" encodes the emoji as byte-fallback tokens: no piece may contain U+FFFD or a lone surrogate.
        for (Case c : cases) {
            Tokenizer.StreamingDecoder d = tokenizer.streamingDecoder(true);
            StringBuilder all = new StringBuilder();
            for (int id : c.ids()) {
                String piece = d.next(id);
                assertFalse(piece.contains("\uFFFD"), () -> "piece with U+FFFD for " + repr(c.text()));
                assertFalse(!piece.isEmpty() && Character.isHighSurrogate(piece.charAt(piece.length() - 1)));
                all.append(piece);
            }
            all.append(d.flush());
            assertEquals(c.decoded(), all.toString());
        }
    }

    @Test
    void streamingAgreesWithBatchOnConcatenatedCases() {
        // One long stream over every case with separators, including special tokens in the middle.
        List<Integer> ids = new ArrayList<>();
        for (Case c : cases) {
            for (int id : c.ids()) {
                ids.add(id);
            }
            ids.add(2);
        }
        int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
        assertEquals(tokenizer.decode(all, true), stream(tokenizer, all, true));
        assertEquals(tokenizer.decode(all, false), stream(tokenizer, all, false));
    }

    @Test
    void streamingAfterAPromptKeepsTheLeadingSpaceOfTheFirstGeneratedToken() {
        int[] prompt = tokenizer.encode("def f", true);
        int[] generated = tokenizer.encode("def f(x): return x", true);
        int[] continuation = IntStream.range(prompt.length, generated.length).map(i -> generated[i]).toArray();
        // The continuation starts with "(x" then "▁return": batch-decoding the whole text is the reference.
        String whole = tokenizer.decode(generated, true);
        String promptText = tokenizer.decode(prompt, true);
        assertTrue(whole.startsWith(promptText));
        Tokenizer.StreamingDecoder d = tokenizer.streamingDecoder(true, prompt);
        StringBuilder sb = new StringBuilder();
        for (int id : continuation) {
            sb.append(d.next(id));
        }
        sb.append(d.flush());
        assertEquals(whole.substring(promptText.length()), sb.toString());
    }

    @Test
    void pairTemplate() {
        int[] a = tokenizer.encode("def f", false);
        int[] b = tokenizer.encode("x = 1", false);
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(1), IntStream.of(a)),
                IntStream.concat(IntStream.of(1), IntStream.of(b))).toArray();
        assertArrayEquals(expected, tokenizer.encodePair("def f", "x = 1", true));
        assertArrayEquals(IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray(),
                tokenizer.encodePair("def f", "x = 1", false));
    }

    @Test
    void vocabularyFacts() {
        assertEquals(4096, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bosId().orElseThrow());
        assertEquals(2, tokenizer.eosId().orElseThrow());
        assertTrue(tokenizer.isSpecial(1));
        assertFalse(tokenizer.isSpecial(401));
        assertEquals("<0x0A>", tokenizer.tokenString(13));
        assertEquals(13, tokenizer.tokenId("<0x0A>").orElseThrow());
        assertTrue(tokenizer.chatTemplate().isEmpty());
    }

    static String stream(Tokenizer t, int[] ids, boolean skip) {
        Tokenizer.StreamingDecoder d = t.streamingDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.next(id));
        }
        return sb.append(d.flush()).toString();
    }

    static String repr(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().limit(40).forEach(cp -> sb.append(cp < 0x20 ? "\\x%02x".formatted(cp) : Character.toString(cp)));
        return sb.append('"').toString();
    }
}
