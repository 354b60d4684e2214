package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random corruption of real chat templates (characters and Jinja tokens deleted, duplicated or swapped in):
 * every mutant either renders or fails with {@link ChatTemplate.UnsupportedTemplateException} or
 * {@link InvalidRequestException}. Anything else (an index or number-format error, a ClassCastException, a hang on
 * the stack) fails the test with the seed that reproduces it.
 */
class ChatTemplateFuzzTest {

    private static final int CASES = Integer.getInteger("fuzz.cases", 150) * 4;
    private static final String[] PIECES = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "(", ")", "[", "]", "{", "}", "'",
            "\"", "|", ".", ",", ":", "=", " is ", " not ", " in ", " if ", " else ", "endif", "endfor", "set ", "macro ",
            "9999999999999999999999", "\\u12", "\\x", "1e999", "%s", "*", "**", "//", "~", "loop.", "none", "[::-1]",
            "|tojson(indent=", "|join(", "|replace(", "|trim(", "|int(", "|round(", "|indent(", "range(", "caller()"};

    @Test
    void mutatedTemplatesRenderOrFailCleanly() throws IOException {
        List<String> templates = new ArrayList<>();
        try (Stream<Path> files = Files.list(ChatTemplateGoldenTest.DIR)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".jinja")).sorted().toList()) {
                templates.add(Files.readString(p));
            }
        }
        JsonNode conversations = new ObjectMapper().readTree(ChatTemplateGoldenTest.DIR.resolve("conversations.json").toFile());
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            StringBuilder t = new StringBuilder(templates.get(rnd.nextInt(templates.size())));
            for (int edits = 1 + rnd.nextInt(3); edits > 0 && !t.isEmpty(); edits--) {
                int at = rnd.nextInt(t.length());
                switch (rnd.nextInt(3)) {
                    case 0 -> t.delete(at, Math.min(t.length(), at + 1 + rnd.nextInt(8)));
                    case 1 -> t.insert(at, PIECES[rnd.nextInt(PIECES.length)]);
                    default -> t.insert(at, t.substring(at, Math.min(t.length(), at + 1 + rnd.nextInt(30))));
                }
            }
            JsonNode conv = conversations.get(rnd.nextInt(conversations.size()));
            try {
                List<ChatMessage> messages = ChatTemplateGoldenTest.messages(conv.get("messages"));
                List<Map<String, Object>> tools = ChatTemplateGoldenTest.tools(conv.get("tools"));
                ChatTemplate.parse(t.toString()).render(messages, tools, rnd.nextBoolean(), Map.of("bos_token", "<s>"));
            } catch (ChatTemplate.UnsupportedTemplateException | InvalidRequestException expected) {
                // a clean refusal
            } catch (RuntimeException | StackOverflowError e) {
                fail("seed " + seed + ": " + e + "\n--- template ---\n" + t, e);
            }
        }
    }

    /** Every filter, test and method with odd receivers and arguments: a result or a clean failure, nothing else. */
    @Test
    void oddArgumentsFailCleanly() {
        String[] filters = {"abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
                "first", "float", "forceescape", "format", "indent", "int", "join", "last", "length", "list", "lower",
                "items", "map", "min", "max", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
                "selectattr", "sort", "string", "sum", "title", "trim", "unique", "upper", "wordcount", "tojson", "groupby"};
        String[] tests = {"odd", "even", "divisibleby", "defined", "none", "string", "mapping", "iterable", "sequence",
                "sameas", "in", "eq", "ne", "gt", "ge", "lt", "le", "lower", "upper", "filter", "test", "callable"};
        String[] methods = {"strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "replace", "find",
                "index", "count", "join", "format", "zfill", "center", "partition", "items", "keys", "get", "append",
                "pop", "upper", "title", "splitlines", "removeprefix"};
        String[] receivers = {"none", "1", "-2.5", "'text'", "''", "[1, 'a', none]", "[]", "{'a': 1, 'b': [2]}", "missing",
                "(1, 2)", "true", "namespace(a=1)"};
        String[] args = {"", "()", "(1)", "('a')", "(none)", "('a', 'b', 'c', 'd', 'e')", "(-1)", "([1])", "({})",
                "(x=1)", "(1, none, 'x')"};
        Map<String, String> tokens = Map.of();
        int cases = 0;
        for (String r : receivers) {
            for (String a : args) {
                List<String> exprs = new ArrayList<>();
                for (String f : filters) exprs.add(r + " | " + f + a);
                for (String t : tests) exprs.add(r + " is " + t + (a.isEmpty() ? "" : a));
                for (String m : methods) exprs.add(r + "." + m + (a.isEmpty() ? "()" : a));
                for (String e : exprs) {
                    String template = "{{ " + e + " }}|{% for x in " + e + " %}{{ x }}{% endfor %}";
                    cases++;
                    try {
                        ChatTemplate.parse(template).render(List.of(), false, tokens);
                    } catch (ChatTemplate.UnsupportedTemplateException | InvalidRequestException expected) {
                        // a clean refusal
                    } catch (RuntimeException | StackOverflowError x) {
                        fail(template + ": " + x, x);
                    }
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(cases > 10_000, "cases: " + cases);
    }
}
