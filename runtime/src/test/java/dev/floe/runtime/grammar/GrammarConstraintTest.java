package dev.floe.runtime.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.SamplingParams;
import dev.floe.api.TokenConstraint;
import dev.floe.runtime.generate.Sampler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The JSON grammars, their matcher, and constrained decoding over a made-up vocabulary with random logits. */
class GrammarConstraintTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":12},
              "age":{"type":"integer"},
              "tags":{"type":"array","items":{"enum":["a","b","c"]},"minItems":1,"maxItems":3},
              "ok":{"type":"boolean"},
              "score":{"type":["number","null"]},
              "child":{"$ref":"#/$defs/node"}},
             "required":["name","age"],
             "$defs":{"node":{"type":"object","properties":{"id":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}}}}}
            """;

    /** Printable ASCII one character a token, plus the multi-character tokens real vocabularies have, plus EOS. */
    static final String[] VOCAB;
    static final int EOS;

    static {
        List<String> v = new ArrayList<>();
        for (char c = ' '; c < 127; c++) v.add(String.valueOf(c));
        v.addAll(List.of("\n", "  ", "\n  ", "{\"", "\":", "\",", "\"}", "\": \"", "true", "false", "null", "12", "-3", ".5", "e+",
                "name", "age", "tags", "ok", "\\u00e9", "\\n", "é", "日本", "[\"", "\"]", "},", "abc", "  \"", "\u00ff"));
        EOS = v.size();
        v.add("</s>");
        VOCAB = v.toArray(String[]::new);
    }

    static GrammarMatcher read(Grammar g, String text) {
        return GrammarMatcher.start(g).advance(text);
    }

    @Test
    void anyValueReadsJsonAndRefusesWhatIsNot() {
        Grammar any = JsonGrammars.anyValue();
        for (String ok : List.of("{}", " {\"a\": [1, -2.5e+3, true, null, \"x\\u00e9\\n\"], \"b\": {}}", "[]", "0", "\"\"", "[[[]]]", "-0.5E-7")) {
            GrammarMatcher m = read(any, ok);
            assertNotNull(m, ok);
            assertTrue(m.complete(), ok);
        }
        for (String bad : List.of("{,}", "[1,]", "01", "{\"a\" 1}", "tru ", "\"\\x\"", "[1 2]", "{\"a\":1,}", "\"a\nb\"", "1.e5", "--1")) {
            GrammarMatcher m = read(any, bad);
            assertTrue(m == null || !m.complete(), bad);
        }
        assertNull(read(JsonGrammars.anyObject(), "[1]"), "json_object wants an object");
        assertEquals("\"}", read(any, "{\"a\":\"x").shortestCompletion());
        assertEquals(":0}]", read(any, "[{\"a\"").shortestCompletion());
        assertEquals("", read(any, "12").shortestCompletion(), "a number may end here");
    }

    @Test
    void schemaGrammarsFollowTheSchema() throws Exception {
        Grammar g = JsonGrammars.fromSchema(JSON.readTree(SCHEMA));
        String ok = "{\"name\": \"Ann\", \"age\": 31, \"tags\": [\"a\", \"c\"], \"ok\": false, \"score\": null, \"child\": {\"id\": 1, \"next\": {\"id\": 2, \"next\": null}}}";
        assertTrue(read(g, ok).complete());
        for (String bad : List.of("{\"age\": 1", "{\"name\": 5", "{\"name\": \"a very long name\"", "{\"name\": \"A\", \"age\": 1.5",
                "{\"name\": \"A\", \"age\": 1, \"tags\": []", "{\"name\": \"A\", \"age\": 1, \"tags\": [\"d\"", "{\"name\": \"A\", \"age\": 1, \"tags\": [\"a\",\"a\",\"a\",\"a\"")) {
            assertNull(read(g, bad), bad);
        }
        JsonGrammars.UnsupportedSchemaException e = assertThrows(JsonGrammars.UnsupportedSchemaException.class,
                () -> JsonGrammars.fromSchema(JSON.readTree("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0}}}")));
        assertTrue(e.getMessage().contains("'minimum'") && e.getMessage().contains("properties.n"), e.getMessage());
    }

    /**
     * Random logits, many seeds, tight and loose token budgets: what comes out always parses and fits the schema. A
     * budget below the shortest valid output's length in characters is the caller's limit, not tested here.
     */
    @Test
    void constrainedSamplingAlwaysGivesValidJson() throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA);
        TokenTrie trie = new TokenTrie(VOCAB);
        BitSet eos = new BitSet();
        eos.set(EOS);
        int ended = 0;
        for (int seed = 0; seed < 120; seed++) {
            boolean object = seed % 2 == 0;
            Grammar g = object ? JsonGrammars.anyObject() : JsonGrammars.fromSchema(schema);
            // a tight budget: barely more tokens than the shortest valid output has characters
            int shortest = GrammarMatcher.start(g).shortestCompletion().length();
            int maxTokens = seed % 3 == 0 ? shortest + 3 : 200;
            TokenConstraint.Matcher m = new GrammarConstraint(g, trie, eos, maxTokens).start();
            Sampler sampler = new Sampler(new SamplingParams(1.0, 0, 1, seed));
            SplittableRandom random = new SplittableRandom(seed * 31L);
            StringBuilder out = new StringBuilder();
            boolean sawEos = false;
            for (int step = 0; step < maxTokens; step++) {
                float[] logits = new float[VOCAB.length];
                for (int i = 0; i < logits.length; i++) logits[i] = (float) (random.nextGaussian() * 3);
                m.mask(logits);
                int id = sampler.sample(logits);
                m.accept(id);
                if (id == EOS) {
                    sawEos = true;
                    break;
                }
                out.append(VOCAB[id]);
            }
            if (sawEos) ended++;
            JsonNode parsed;
            try {
                parsed = JSON.readTree(out.toString());
            } catch (Exception e) {
                fail("seed " + seed + " (" + maxTokens + " tokens): not JSON: " + out + " (" + e.getMessage() + ")");
                return;
            }
            assertNotNull(parsed, "seed " + seed + ": empty output");
            if (object) assertTrue(parsed.isObject(), "seed " + seed + ": " + out);
            else validate(parsed, schema, schema, "seed " + seed + " " + out);
        }
        assertTrue(ended >= 60, "most outputs end with EOS before the budget (the others end complete on its last token): " + ended);
    }

    /**
     * The fast mask (string-safe token sets by length, the pruned walk, the kept masks of recurring states) allows
     * exactly the tokens that the walk of the whole trie allows: random vocabularies rich in quotes, backslashes and
     * control characters, grammars with bounded strings (one with two string parses of different bounds at once),
     * tight and loose budgets, every step of many random outputs.
     */
    @Test
    void fastMaskAllowsExactlyTheTokensOfTheFullWalk() throws Exception {
        List<Grammar> grammars = List.of(JsonGrammars.anyObject(), JsonGrammars.anyValue(), JsonGrammars.fromSchema(JSON.readTree(SCHEMA)),
                JsonGrammars.fromSchema(JSON.readTree("""
                        {"type":"object","properties":{"s":{"type":"string","minLength":3,"maxLength":7},
                         "u":{"anyOf":[{"type":"string","maxLength":3},{"type":"string","minLength":5,"maxLength":9}]},
                         "t":{"type":"array","items":{"type":"string","maxLength":2}},"n":{"type":"integer"},"any":{}}}""")));
        int steps = 0, stringSteps = 0;
        for (int v = 0; v < 4; v++) {
            String[] random = SyntheticVocabulary.random(v, 300 + 200 * v);
            String[] texts = java.util.Arrays.copyOf(random, random.length + 1); // the last one, with no text, ends the output
            TokenTrie trie = new TokenTrie(texts);
            BitSet eos = new BitSet();
            eos.set(random.length);
            for (int seed = 0; seed < 24; seed++) {
                Grammar g = grammars.get(seed % grammars.size());
                int shortest = GrammarMatcher.start(g).shortestCompletion().length();
                int maxTokens = seed % 3 == 0 ? shortest + 4 : 160;
                List<TokenConstraint.Matcher> matchers = new ArrayList<>();
                for (GrammarConstraint.Mode mode : GrammarConstraint.Mode.values()) matchers.add(new GrammarConstraint(g, trie, eos, maxTokens, mode).start());
                GrammarMatcher state = GrammarMatcher.start(g);
                Sampler sampler = new Sampler(new SamplingParams(1.0, 0, 1, seed));
                SplittableRandom random2 = new SplittableRandom(seed * 17L + v);
                for (int step = 0; step < maxTokens; step++) {
                    float[] logits = new float[texts.length];
                    for (int i = 0; i < logits.length; i++) logits[i] = (float) (random2.nextGaussian() * 3);
                    float[][] masked = new float[matchers.size()][];
                    for (int k = 0; k < matchers.size(); k++) {
                        masked[k] = logits.clone();
                        matchers.get(k).mask(masked[k]);
                    }
                    String shown = String.valueOf(state);
                    String where = "vocabulary " + v + ", seed " + seed + ", step " + step + ", state " + shown.substring(0, Math.min(300, shown.length()));
                    for (int k = 0; k < matchers.size(); k++) {
                        assertArrayEquals(masked[GrammarConstraint.Mode.FULL_WALK.ordinal()], masked[k], GrammarConstraint.Mode.values()[k] + " at " + where);
                    }
                    steps++;
                    if (state != null && state.inPlainString()) stringSteps++;
                    int id = sampler.sample(masked[0]);
                    for (TokenConstraint.Matcher m : matchers) m.accept(id);
                    if (id == random.length) break;
                    state = state.advance(texts[id]);
                    assertNotNull(state, where + ": the mask let through a token the grammar cannot read: " + texts[id]);
                }
            }
        }
        assertTrue(stringSteps > 200 && steps > 2 * stringSteps, "the steps cover strings and structure: " + stringSteps + " of " + steps);
    }

    /** A small validator for the schema keywords used here, written apart from the grammar. */
    static void validate(JsonNode v, JsonNode s, JsonNode root, String where) {
        if (s.has("$ref")) {
            validate(v, root.at(s.get("$ref").asText().substring(1)), root, where);
            return;
        }
        if (s.has("anyOf")) {
            for (JsonNode b : s.get("anyOf")) {
                try {
                    validate(v, b, root, where);
                    return;
                } catch (AssertionError ignored) {
                    // try the next branch
                }
            }
            fail(where + ": no anyOf branch matches " + v);
        }
        if (s.has("enum")) {
            boolean found = false;
            for (JsonNode e : s.get("enum")) found |= e.equals(v);
            assertTrue(found, where + ": " + v + " not in " + s.get("enum"));
            return;
        }
        JsonNode type = s.get("type");
        if (type == null) return;
        List<String> types = new ArrayList<>();
        if (type.isArray()) type.forEach(t -> types.add(t.asText()));
        else types.add(type.asText());
        String actual = v.isObject() ? "object" : v.isArray() ? "array" : v.isTextual() ? "string" : v.isIntegralNumber() ? "integer"
                : v.isNumber() ? "number" : v.isBoolean() ? "boolean" : "null";
        assertTrue(types.contains(actual) || (actual.equals("integer") && types.contains("number")), where + ": " + v + " is not " + types);
        switch (actual) {
            case "object" -> {
                for (JsonNode r : s.path("required")) assertTrue(v.has(r.asText()), where + ": missing " + r);
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    JsonNode ps = s.path("properties").get(f.getKey());
                    assertNotNull(ps, where + ": unexpected property " + f.getKey());
                    validate(f.getValue(), ps, root, where);
                }
            }
            case "array" -> {
                assertTrue(v.size() >= s.path("minItems").asInt(0) && v.size() <= s.path("maxItems").asInt(Integer.MAX_VALUE), where + ": size of " + v);
                for (JsonNode item : v) validate(item, s.get("items"), root, where);
            }
            case "string" -> assertTrue(v.asText().length() <= s.path("maxLength").asInt(Integer.MAX_VALUE), where + ": too long " + v);
            default -> {
            }
        }
    }
}
