package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Encodes about 1 MB (every golden text, repeated) and prints the speed. A measurement, not a timed assertion; it
 * does assert that the large input decodes back and that a fresh tokenizer (cold cache) gives the same ids.
 */
class EncodeThroughputTest {

    @Test
    void encodeAMegabyte() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(GoldenTokenizerTest.MODEL.resolve("tokenizer-golden.json").toFile());
        StringBuilder one = new StringBuilder();
        for (JsonNode c : golden.get("cases")) {
            if (!c.get("text").equals(c.get("decoded"))) {
                continue; // texts with literal special tokens or "▁" do not round-trip, as in Hugging Face
            }
            one.append(c.get("text").textValue()).append('\n');
        }
        String text = one.toString().repeat(Math.max(1, 1_000_000 / one.length()));

        HfTokenizer warm = HfTokenizer.load(GoldenTokenizerTest.MODEL);
        int[] reference = null;
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            int[] ids = warm.encode(text, false);
            best = Math.min(best, System.nanoTime() - t0);
            reference = ids;
        }
        long t0 = System.nanoTime();
        int[] cold = HfTokenizer.load(GoldenTokenizerTest.MODEL).encode(text, false);
        long coldNanos = System.nanoTime() - t0;
        String decoded = null;
        long decodeNanos = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long d0 = System.nanoTime();
            decoded = warm.decode(reference, false);
            decodeNanos = Math.min(decodeNanos, System.nanoTime() - d0);
        }

        assertArrayEquals(reference, cold);
        assertEquals(text, decoded);
        System.out.printf("encode %,d chars -> %,d tokens: best %.1f ms (%,.0f tokens/s, %.1f MB/s); cold cache %.1f ms;"
                        + " decode best %.1f ms%n", text.length(), reference.length, best / 1e6, reference.length / (best / 1e9),
                text.length() / (best / 1e9) / 1e6, coldNanos / 1e6, decodeNanos / 1e6);

        // Llama-2's original tokenizer.json has no pre-tokenizer: the whole text is one BPE word (no cache helps).
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper()
                .readTree(GoldenTokenizerTest.MODEL.resolve("tokenizer.json").toFile());
        root.putNull("pre_tokenizer");
        HfTokenizer oneWord = HfTokenizer.fromJson(root.toString(), null, "no-pre-tokenizer/tokenizer.json");
        long w0 = System.nanoTime();
        int[] ids = oneWord.encode(text, false);
        long wordNanos = System.nanoTime() - w0;
        assertEquals(text, oneWord.decode(ids, false));
        System.out.printf("encode %,d chars as one word (no pre-tokenizer) -> %,d tokens: %.1f ms (%,.0f tokens/s)%n",
                text.length(), ids.length, wordNanos / 1e6, ids.length / (wordNanos / 1e9));
    }
}
