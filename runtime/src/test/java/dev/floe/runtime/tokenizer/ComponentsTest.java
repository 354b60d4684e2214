package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The components one by one, with results worked out by hand from the Hugging Face definitions. */
class ComponentsTest {

    private static List<String> split(String text, PreTokenizer.Behavior behavior, boolean invert) {
        return PreTokenizer.splitOn(new PreTokenizer.Piece(text, true), Pattern.compile("-", Pattern.LITERAL), behavior,
                invert).stream().map(PreTokenizer.Piece::text).toList();
    }

    @Test
    void splitBehaviours() {
        assertEquals(List.of("a", "b", "c"), split("a-b--c", PreTokenizer.Behavior.REMOVED, false));
        assertEquals(List.of("a", "-", "b", "-", "-", "c"), split("a-b--c", PreTokenizer.Behavior.ISOLATED, false));
        assertEquals(List.of("a-", "b-", "-", "c"), split("a-b--c", PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, false));
        assertEquals(List.of("a", "-b", "-", "-c"), split("a-b--c", PreTokenizer.Behavior.MERGED_WITH_NEXT, false));
        assertEquals(List.of("a", "-", "b", "--", "c"), split("a-b--c", PreTokenizer.Behavior.CONTIGUOUS, false));
        assertEquals(List.of("-", "-", "-"), split("a-b--c", PreTokenizer.Behavior.REMOVED, true));
        assertEquals(List.of("-a", "-"), split("-a-", PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, true));
    }

    @Test
    void splitOnlyMarksTheFirstPieceAsTheStartOfTheInput() {
        var pieces = PreTokenizer.splitOn(new PreTokenizer.Piece("a-b", true), Pattern.compile("-"),
                PreTokenizer.Behavior.ISOLATED, false);
        assertEquals(List.of(true, false, false), pieces.stream().map(PreTokenizer.Piece::atStart).toList());
    }

    @Test
    void wordPreTokenizers() {
        var ws = new PreTokenizer.Whitespace().split(new PreTokenizer.Piece("Hey, you  there!", true));
        assertEquals(List.of("Hey", ",", "you", "there", "!"), ws.stream().map(PreTokenizer.Piece::text).toList());
        var wss = new PreTokenizer.WhitespaceSplit().split(new PreTokenizer.Piece(" Hey, you\tthere! ", true));
        assertEquals(List.of("Hey,", "you", "there!"), wss.stream().map(PreTokenizer.Piece::text).toList());
        var seq = new PreTokenizer.Sequence(List.of(new PreTokenizer.WhitespaceSplit(), new PreTokenizer.Digits(true)));
        assertEquals(List.of("a", "1", "2", "b"), seq.splitAll(List.of(new PreTokenizer.Piece("a12 b", true))).stream()
                .map(PreTokenizer.Piece::text).toList());
    }

    @Test
    void normalizers() {
        assertEquals("\u00e9", new Normalizer.Unicode(java.text.Normalizer.Form.NFC).apply("e\u0301"));
        assertEquals("e\u0301", new Normalizer.Unicode(java.text.Normalizer.Form.NFD).apply("\u00e9"));
        assertEquals("fi", new Normalizer.Unicode(java.text.Normalizer.Form.NFKC).apply("\ufb01"));
        assertEquals("abc", new Normalizer.Lowercase().apply("AbC"));
        assertEquals("x ", new Normalizer.Strip(true, false).apply("  x "));
        assertEquals("", new Normalizer.Prepend("▁").apply(""));
        Normalizer llama = new Normalizer.Sequence(List.of(new Normalizer.Prepend("▁"),
                new Normalizer.Replace(Pattern.compile(" ", Pattern.LITERAL), "▁")));
        assertEquals("▁a▁▁b", llama.apply("a  b"));
        assertEquals("a-b-", new Normalizer.Replace(Pattern.compile("\\s+"), "-").apply("a \t b\n"));
        assertEquals("$1", new Normalizer.Replace(Pattern.compile("x"), "$1").apply("x"), "content is literal");
    }

    @Test
    void decoders() {
        assertEquals(List.of("a", "b "), new Decoder.Strip(' ', 1, 0).decodeChain(List.of(" a", "b ")));
        assertEquals(List.of("ab"), new Decoder.Fuse().decodeChain(List.of("a", "b")));
        assertEquals(List.of("x", "é", "y"), new Decoder.ByteFallback().decodeChain(List.of("x", "<0xC3>", "<0xA9>", "y")));
        assertEquals(List.of("\uFFFD", "\uFFFD", "y"),
                new Decoder.ByteFallback().decodeChain(List.of("<0xC3>", "<0x41>", "y")), "invalid UTF-8: one U+FFFD per byte");
        assertEquals(List.of("<0xZZ>"), new Decoder.ByteFallback().decodeChain(List.of("<0xZZ>")));
        assertEquals(List.of("hi", " there"), new Decoder.Metaspace('▁', PreTokenizer.PrependScheme.ALWAYS)
                .decodeChain(List.of("▁hi", "▁there")));
        assertEquals(List.of(" hi"), new Decoder.Metaspace('▁', PreTokenizer.PrependScheme.NEVER)
                .decodeChain(List.of("▁hi")));
    }

    @Test
    void byteLevelAlphabetRoundTrips() {
        String text = "héllo wörld\n\t🚀 \u0000";
        String mapped = ByteLevelAlphabet.encode(text);
        assertEquals("Ġ", ByteLevelAlphabet.encode(" "));
        assertEquals("Ċ", ByteLevelAlphabet.encode("\n"));
        assertEquals(text, ByteLevelAlphabet.decode(mapped));
    }

    /** A GPT-2 style tokenizer: ByteLevel pre-tokenizer, post-processor and decoder over the 256 byte characters. */
    @Test
    void byteLevelTokenizer() {
        ObjectNode root = TinyLlama.JSON.createObjectNode();
        root.putArray("added_tokens").addObject().put("id", 0).put("content", "<|endoftext|>").put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        root.putObject("post_processor").put("type", "ByteLevel");
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("<|endoftext|>", 0);
        int next = 1;
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), next++);
        }
        ArrayNode merges = model.putArray("merges");
        for (String[] m : new String[][] {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"Ġ", "w"}}) {
            merges.add(m[0] + " " + m[1]);
            vocab.put(m[0] + m[1], next++);
        }
        HfTokenizer tok = HfTokenizer.fromJson(root.toString(), null, "gpt2ish/tokenizer.json");
        assertEquals(List.of("hell", "o", "Ġw", "o", "r", "l", "d", "<|endoftext|>", "Ċ"),
                tok.tokens("hello world<|endoftext|>\n", true));
        String text = "héllo  wörld\n\t🚀 x's";
        assertEquals(text, tok.decode(tok.encode(text, true), false));
        assertEquals(text, GoldenTokenizerTest.stream(tok, tok.encode(text, true), false));
    }
}
