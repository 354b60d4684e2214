package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.floe.runtime.tokenizer.TinyLlama.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Metaspace path on a tiny Llama-style vocabulary written in the test. */
class MetaspaceTokenizerTest {

    final HfTokenizer tok = TinyLlama.tokenizer(TinyLlama.node());

    private static int[] ids(String... tokens) {
        return Arrays.stream(tokens).mapToInt(TinyLlama::id).toArray();
    }

    @Test
    void wordsStartAtEachMetaspace() {
        assertArrayEquals(ids("▁hello", "▁world"), tok.encode("hello world", false));
        assertArrayEquals(ids("<s>", "▁hello", "▁world"), tok.encode("hello world", true));
    }

    @Test
    void lowestRankMergesFirst() {
        // "▁ h" (rank 2) is applied before "h i" (rank 10), so "hi" never forms; "\n" falls back to a byte token.
        assertArrayEquals(ids("▁h", "i", "<0x0A>"), tok.encode("hi\n", false));
        assertArrayEquals(ids("▁", "<0xC3>", "<0xA9>"), tok.encode("é", false));
    }

    @Test
    void prependSchemeFirstOnlyPrependsAtTheStartOfTheInput() {
        assertArrayEquals(ids("<s>", "h", "e", "llo"), tok.encode("<s>hello", false));
        ObjectNode always = TinyLlama.node();
        ((ObjectNode) always.get("pre_tokenizer")).put("prepend_scheme", "always");
        assertArrayEquals(ids("<s>", "▁hello"), TinyLlama.tokenizer(always).encode("<s>hello", false));
        ObjectNode never = TinyLlama.node();
        ((ObjectNode) never.get("pre_tokenizer")).put("prepend_scheme", "never");
        assertArrayEquals(ids("h", "e", "llo", "▁world"), TinyLlama.tokenizer(never).encode("hello world", false));
    }

    @Test
    void withoutSplittingTheWholeTextIsOneWord() {
        ObjectNode noSplit = TinyLlama.node();
        ((ObjectNode) noSplit.get("pre_tokenizer")).put("split", false);
        assertArrayEquals(ids("▁hello", "▁world"), TinyLlama.tokenizer(noSplit).encode("hello world", false));
    }

    @Test
    void unknownCharactersFuseIntoOneUnkWithoutByteFallback() {
        ObjectNode node = TinyLlama.node();
        ((ObjectNode) node.get("model")).put("byte_fallback", false);
        assertArrayEquals(ids("▁", "<unk>", "▁h"), TinyLlama.tokenizer(node).encode("zz h", false));
        ((ObjectNode) node.get("model")).put("fuse_unk", false);
        assertArrayEquals(ids("▁", "<unk>", "<unk>", "▁h"), TinyLlama.tokenizer(node).encode("zz h", false));
    }

    @Test
    void decodesBackThroughTheMetaspaceDecoder() {
        for (String text : new String[] {"hello world", "hi\n", "é hello", "world  hello"}) {
            int[] ids = tok.encode(text, true);
            assertEquals(text, tok.decode(ids, true));
            assertEquals("<s>" + " " + text, tok.decode(ids, false));
            assertEquals(text, GoldenTokenizerTest.stream(tok, ids, true));
        }
    }

    @Test
    void streamingHoldsBackIncompleteBytes() {
        Tokenizer.StreamingDecoder d = tok.streamingDecoder(true);
        assertEquals("", d.next(id("<s>")));
        assertEquals("", d.next(id("▁")));
        assertEquals("", d.next(id("<0xC3>")));
        assertEquals("é", d.next(id("<0xA9>")));
        assertEquals(" hello", d.next(id("▁hello")));
        assertEquals("", d.next(id("<0xC3>")));
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void pairWithoutAPairTemplateIsRefused() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.floe.api.InvalidRequestException.class,
                () -> tok.encodePair("hello", "world", true));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("pair"), e.getMessage());
        assertArrayEquals(ids("▁hello", "▁world"), tok.encodePair("hello", "world", false));
    }

    @Test
    void vocabularyOfTheTinyTokenizer() {
        assertEquals(259 + TinyLlama.WORDS.size(), tok.vocabSize());
        assertEquals(1, tok.bosId().orElseThrow());
        assertEquals(2, tok.eosId().orElseThrow());
        assertEquals("▁hello", tok.tokenString(id("▁hello")));
    }
}
