package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.ModelFormatException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A JSON node together with the file and the JSON path it was read from, so that every error names
 * {@code file: path: problem (value: ...)}.
 */
record JsonAt(String file, String path, JsonNode node) {

    /** A required member; missing or {@code null} is an error. */
    JsonAt get(String field) {
        JsonNode child = node.get(field);
        if (child == null || child.isNull()) {
            throw new ModelFormatException(file + ": " + child(field) + ": required field is missing (in: " + preview(node) + ")");
        }
        return new JsonAt(file, child(field), child);
    }

    /** An optional member; missing and {@code null} are both empty. */
    Optional<JsonAt> opt(String field) {
        JsonNode child = node.get(field);
        return child == null || child.isNull() ? Optional.empty() : Optional.of(new JsonAt(file, child(field), child));
    }

    boolean has(String field) {
        return opt(field).isPresent();
    }

    String text() {
        if (!node.isTextual()) {
            throw error("expected a string");
        }
        return node.textValue();
    }

    String text(String field) {
        return get(field).text();
    }

    String text(String field, String orElse) {
        return opt(field).map(JsonAt::text).orElse(orElse);
    }

    boolean bool(String field, boolean orElse) {
        Optional<JsonAt> v = opt(field);
        if (v.isEmpty()) {
            return orElse;
        }
        if (!v.get().node.isBoolean()) {
            throw v.get().error("expected true or false");
        }
        return v.get().node.booleanValue();
    }

    int integer() {
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw error("expected an integer");
        }
        return node.intValue();
    }

    int integer(String field, int orElse) {
        return opt(field).map(JsonAt::integer).orElse(orElse);
    }

    /** A single character, as Metaspace's replacement and Strip's content are. */
    int codePoint(String field, int orElse) {
        Optional<JsonAt> v = opt(field);
        if (v.isEmpty()) {
            return orElse;
        }
        String s = v.get().text();
        if (s.codePointCount(0, s.length()) != 1) {
            throw v.get().error("expected exactly one character");
        }
        return s.codePointAt(0);
    }

    List<JsonAt> elements() {
        if (!node.isArray()) {
            throw error("expected an array");
        }
        List<JsonAt> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(new JsonAt(file, path + "[" + i + "]", node.get(i)));
        }
        return out;
    }

    List<JsonAt> elements(String field) {
        return get(field).elements();
    }

    /** Compiles a {@code {"Regex": ...}} or {@code {"String": ...}} pattern object into a Java regex. */
    Pattern pattern() {
        if (node.has("Regex")) {
            JsonAt regex = get("Regex");
            try {
                return Pattern.compile(regex.text(), Pattern.UNICODE_CHARACTER_CLASS);
            } catch (PatternSyntaxException e) {
                throw regex.error("invalid regular expression: " + e.getDescription(), e);
            }
        }
        if (node.has("String")) {
            return Pattern.compile(get("String").text(), Pattern.LITERAL);
        }
        throw error("expected a pattern object with \"Regex\" or \"String\"");
    }

    /** Replaces every match of a pattern with literal content; literal patterns take the fast path. */
    static String replaceAll(Pattern pattern, String text, String content) {
        if ((pattern.flags() & Pattern.LITERAL) != 0) {
            return text.replace(pattern.pattern(), content);
        }
        return pattern.matcher(text).replaceAll(java.util.regex.Matcher.quoteReplacement(content));
    }

    ModelFormatException error(String problem) {
        return new ModelFormatException(file + ": " + path + ": " + problem + " (value: " + preview(node) + ")");
    }

    ModelFormatException error(String problem, Throwable cause) {
        return new ModelFormatException(file + ": " + path + ": " + problem + " (value: " + preview(node) + ")", cause);
    }

    private String child(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    private static String preview(JsonNode n) {
        String s = String.valueOf(n);
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
