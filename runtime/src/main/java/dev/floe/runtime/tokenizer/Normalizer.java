package dev.floe.runtime.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of {@code tokenizer.json}: rewrites a piece of text before pre-tokenization. Offsets are
 * not tracked (Floe needs ids, not alignments), so each normalizer is a plain string function.
 */
sealed interface Normalizer {

    String apply(String text);

    /** Prepends a string to non-empty text (Llama-2 prepends the metaspace {@code ▁}). */
    record Prepend(String prefix) implements Normalizer {
        @Override public String apply(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Replaces every match of a literal or regex pattern with literal content. */
    record Replace(Pattern pattern, String content) implements Normalizer {
        @Override public String apply(String text) {
            return JsonAt.replaceAll(pattern, text, content);
        }
    }

    /** Unicode normalization: NFC, NFD, NFKC or NFKD. */
    record Unicode(java.text.Normalizer.Form form) implements Normalizer {
        @Override public String apply(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements Normalizer {
        @Override public String apply(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    /** Strips whitespace on the left and/or right. */
    record Strip(boolean left, boolean right) implements Normalizer {
        @Override public String apply(String text) {
            return left && right ? text.strip() : left ? text.stripLeading() : right ? text.stripTrailing() : text;
        }
    }

    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        @Override public String apply(String text) {
            for (Normalizer n : normalizers) {
                text = n.apply(text);
            }
            return text;
        }
    }

    static Normalizer parse(JsonAt json) {
        String type = json.text("type");
        return switch (type) {
            case "Prepend" -> new Prepend(json.text("prepend"));
            case "Replace" -> new Replace(json.get("pattern").pattern(), json.text("content"));
            case "NFC" -> new Unicode(java.text.Normalizer.Form.NFC);
            case "NFD" -> new Unicode(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new Unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new Unicode(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            case "Strip" -> new Strip(json.bool("strip_left", true), json.bool("strip_right", true));
            case "Sequence" -> new Sequence(json.elements("normalizers").stream().map(Normalizer::parse).toList());
            default -> throw json.get("type").error("unsupported normalizer type");
        };
    }
}
