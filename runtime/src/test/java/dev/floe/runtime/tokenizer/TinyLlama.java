package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * A tiny Llama-style tokenizer.json written for tests: Metaspace pre-tokenizer (prepend_scheme first), BPE with
 * byte fallback and merges in both the "a b" and the ["a", "b"] form, {@code <s> $A} template, Metaspace decoder.
 */
final class TinyLlama {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Vocabulary after <unk>, <s>, </s> and the 256 byte tokens (ids 259 on). */
    static final List<String> WORDS = List.of("▁", "h", "e", "l", "o", "w", "r", "d", "i", "ll", "llo", "▁h", "▁he",
            "▁hello", "or", "▁w", "▁wor", "▁worl", "▁world", "hi");

    static final List<List<String>> MERGES = List.of(List.of("l", "l"), List.of("ll", "o"), List.of("▁", "h"),
            List.of("▁h", "e"), List.of("▁he", "llo"), List.of("o", "r"), List.of("▁", "w"), List.of("▁w", "or"),
            List.of("▁wor", "l"), List.of("▁worl", "d"), List.of("h", "i"));

    private TinyLlama() {}

    static int id(String token) {
        return switch (token) {
            case "<unk>" -> 0;
            case "<s>" -> 1;
            case "</s>" -> 2;
            default -> token.startsWith("<0x") ? 3 + Integer.parseInt(token.substring(3, 5), 16) : 259 + WORDS.indexOf(token);
        };
    }

    static ObjectNode node() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "▁")
                .put("prepend_scheme", "first").put("split", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").put("unk_token", "<unk>").put("fuse_unk", true)
                .put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("<unk>", 0).put("<s>", 1).put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put("<0x%02X>".formatted(b), 3 + b);
        }
        for (int i = 0; i < WORDS.size(); i++) {
            vocab.put(WORDS.get(i), 259 + i);
        }
        ArrayNode merges = model.putArray("merges");
        for (int i = 0; i < MERGES.size(); i++) {
            List<String> m = MERGES.get(i);
            if (i % 2 == 0) {
                merges.addArray().add(m.get(0)).add(m.get(1));
            } else {
                merges.add(m.get(0) + " " + m.get(1));
            }
        }
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putArray("pair");
        ObjectNode st = post.putObject("special_tokens").putObject("<s>");
        st.put("id", "<s>").putArray("ids").add(1);
        st.putArray("tokens").add("<s>");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        decoder.putArray("decoders").add(JSON.createObjectNode().put("type", "ByteFallback"))
                .add(JSON.createObjectNode().put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first")
                        .put("split", true));
        return root;
    }

    static String json() {
        return node().toString();
    }

    static HfTokenizer tokenizer(ObjectNode node) {
        return HfTokenizer.fromJson(node.toString(), null, "tiny/tokenizer.json");
    }
}
