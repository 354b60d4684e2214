package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every class of malformed input gives an error that names the file, the JSON path and the value at fault. */
class MalformedTokenizerTest {

    private static ModelFormatException fails(ObjectNode node) {
        return assertThrows(ModelFormatException.class, () -> TinyLlama.tokenizer(node));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void invalidJson(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\",,}}");
        var e = assertThrows(ModelFormatException.class, () -> HfTokenizer.load(dir));
        assertMentions(e, dir.resolve("tokenizer.json").toString(), "invalid JSON", "line 1");
    }

    @Test
    void invalidJsonInTheConfigNamesTheConfigFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), TinyLlama.json());
        Files.writeString(dir.resolve("tokenizer_config.json"), "[1, 2");
        var e = assertThrows(ModelFormatException.class, () -> HfTokenizer.load(dir));
        assertMentions(e, "tokenizer_config.json", "invalid JSON");
    }

    @Test
    void missingFile(@TempDir Path dir) {
        var e = assertThrows(ModelFormatException.class, () -> HfTokenizer.load(dir));
        assertMentions(e, "tokenizer.json");
    }

    @Test
    void unknownComponentType() {
        ObjectNode node = TinyLlama.node();
        node.putObject("normalizer").put("type", "Sequence").putArray("normalizers")
                .addObject().put("type", "Frobnicate");
        assertMentions(fails(node), "tiny/tokenizer.json", "normalizer.normalizers[0].type", "Frobnicate");

        ObjectNode decoder = TinyLlama.node();
        ((ObjectNode) decoder.get("decoder").get("decoders").get(1)).put("type", "Mystery");
        assertMentions(fails(decoder), "decoder.decoders[1].type", "Mystery");

        ObjectNode model = TinyLlama.node();
        ((ObjectNode) model.get("model")).put("type", "Unigram");
        assertMentions(fails(model), "model.type", "Unigram");
    }

    @Test
    void missingField() {
        ObjectNode node = TinyLlama.node();
        ((ObjectNode) node.get("model")).remove("vocab");
        assertMentions(fails(node), "tiny/tokenizer.json", "model.vocab", "required");

        ObjectNode content = TinyLlama.node();
        ((ObjectNode) content.get("added_tokens").get(1)).remove("content");
        assertMentions(fails(content), "added_tokens[1].content");
    }

    @Test
    void wrongValueType() {
        ObjectNode node = TinyLlama.node();
        ((ObjectNode) node.get("model")).put("byte_fallback", "yes");
        assertMentions(fails(node), "model.byte_fallback", "\"yes\"");
    }

    @Test
    void mergeNamingAnUnknownToken() {
        ObjectNode node = TinyLlama.node();
        ((ArrayNode) node.get("model").get("merges")).add("▁hello xyz");
        assertMentions(fails(node), "tiny/tokenizer.json", "model.merges[11]", "xyz", "\"▁hello xyz\"");

        ObjectNode malformed = TinyLlama.node();
        ((ArrayNode) malformed.get("model").get("merges")).add("lonely");
        assertMentions(fails(malformed), "model.merges[11]", "lonely");
    }

    @Test
    void badRegex() {
        ObjectNode node = TinyLlama.node();
        node.putObject("pre_tokenizer").put("type", "Split").put("behavior", "Isolated").put("invert", false)
                .putObject("pattern").put("Regex", "(unclosed[");
        assertMentions(fails(node), "pre_tokenizer.pattern.Regex", "(unclosed[", "invalid regular expression");
    }

    @Test
    void badEnumValue() {
        ObjectNode node = TinyLlama.node();
        node.putObject("pre_tokenizer").put("type", "Split").put("behavior", "Sideways").putObject("pattern")
                .put("String", " ");
        assertMentions(fails(node), "pre_tokenizer.behavior", "Sideways");
    }

    @Test
    void idsInTheFileOutsideTheVocabulary() {
        ObjectNode post = TinyLlama.node();
        ((ArrayNode) post.get("post_processor").get("special_tokens").get("<s>").get("ids")).set(0, 2147483647);
        assertMentions(fails(post), "tiny/tokenizer.json", "post_processor.special_tokens[\"<s>\"].ids[0]", "2147483647",
                "outside the vocabulary");

        ObjectNode added = TinyLlama.node();
        ((ObjectNode) added.get("added_tokens").get(1)).put("id", 2147483647);
        assertMentions(fails(added), "added_tokens[1].id", "token id 2147483647 is outside [0, ");
    }

    @Test
    void idOutsideTheVocabulary() {
        HfTokenizer tok = TinyLlama.tokenizer(TinyLlama.node());
        int size = tok.vocabSize();
        var e = assertThrows(InvalidRequestException.class, () -> tok.decode(new int[] {1, size + 7}, false));
        assertMentions(e, String.valueOf(size + 7), "vocabulary size " + size);
        var negative = assertThrows(InvalidRequestException.class, () -> tok.decode(new int[] {-1}, true));
        assertMentions(negative, "-1");
        assertThrows(InvalidRequestException.class, () -> tok.streamingDecoder(true).next(size));
        assertThrows(InvalidRequestException.class, () -> tok.tokenString(size));
    }
}
