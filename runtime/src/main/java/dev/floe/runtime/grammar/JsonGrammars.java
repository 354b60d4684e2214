package dev.floe.runtime.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.floe.runtime.grammar.Grammar.EMPTY;
import static dev.floe.runtime.grammar.Grammar.WS;
import static dev.floe.runtime.grammar.Grammar.choice;
import static dev.floe.runtime.grammar.Grammar.lit;
import static dev.floe.runtime.grammar.Grammar.seq;

/**
 * Grammars for JSON output: any JSON object (OpenAI's {@code json_object}) and the values a JSON schema allows
 * ({@code json_schema}). Only a subset of JSON Schema can be enforced by a grammar this way; a schema that uses a
 * keyword outside it is refused with the keyword named, rather than enforced loosely.
 */
public final class JsonGrammars {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keywords that only describe or that the grammar satisfies by construction. */
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "default", "examples",
            "$comment", "required", "additionalProperties", "strict", "deprecated", "readOnly", "writeOnly");
    /** Array lengths up to this are unrolled exactly; longer maxima are treated as unbounded above. */
    private static final int UNROLL = 32;

    private JsonGrammars() {
    }

    /** A JSON schema keyword or construct the grammar cannot enforce. */
    public static final class UnsupportedSchemaException extends IllegalArgumentException {
        public UnsupportedSchemaException(String message) {
            super(message);
        }
    }

    /** Any JSON value, leading whitespace allowed. */
    public static Grammar anyValue() {
        return seq(WS, new Builder(null).any());
    }

    /** Any JSON object, leading whitespace allowed: OpenAI's {@code response_format: json_object}. */
    public static Grammar anyObject() {
        Builder b = new Builder(null);
        b.any();
        return seq(WS, b.object);
    }

    /**
     * The JSON values {@code schema} allows, leading whitespace allowed. An object's properties come in the order
     * the schema lists them, every one of them present.
     *
     * @throws UnsupportedSchemaException naming the keyword the grammar cannot enforce
     */
    public static Grammar fromSchema(JsonNode schema) {
        return seq(WS, new Builder(schema).schema(schema, "#"));
    }

    private static final class Builder {
        private final JsonNode root;
        private final Map<String, Grammar.Rule> refs = new HashMap<>();
        private Grammar.Rule value;
        private Grammar.Rule object;

        Builder(JsonNode root) {
            this.root = root;
        }

        /** Any JSON value, as mutually recursive rules. */
        Grammar any() {
            if (value != null) return value;
            value = new Grammar.Rule("value");
            object = new Grammar.Rule("object");
            Grammar.Rule array = new Grammar.Rule("array");
            Grammar string = new Grammar.JsonString(0, Integer.MAX_VALUE);
            Grammar member = seq(string, WS, lit(":"), WS, value);
            Grammar.Rule members = new Grammar.Rule("members");
            members.define(choice(seq(WS, lit("}")), seq(WS, lit(","), WS, member, members)));
            object.define(seq(lit("{"), WS, choice(lit("}"), seq(member, members))));
            Grammar.Rule elements = new Grammar.Rule("elements");
            elements.define(choice(seq(WS, lit("]")), seq(WS, lit(","), WS, value, elements)));
            array.define(seq(lit("["), WS, choice(lit("]"), seq(value, elements))));
            value.define(choice(object, array, string, new Grammar.JsonNumber(false), lit("true"), lit("false"), lit("null")));
            return value;
        }

        Grammar schema(JsonNode s, String path) {
            if (s.isBoolean()) {
                if (s.asBoolean()) return any();
                throw new UnsupportedSchemaException(path + ": the schema 'false' allows no value");
            }
            if (!s.isObject()) throw new UnsupportedSchemaException(path + ": a schema must be an object or a boolean, got " + s);
            if (s.has("$ref")) return ref(s.get("$ref").asText(), path);
            if (s.has("const")) return literal(s.get("const"));
            if (s.has("enum")) {
                if (!s.get("enum").isArray() || s.get("enum").isEmpty()) throw new UnsupportedSchemaException(path + ".enum must be a non-empty list");
                List<Grammar> options = new ArrayList<>();
                for (JsonNode v : s.get("enum")) options.add(literal(v));
                return new Grammar.Choice(options);
            }
            for (String combinator : List.of("anyOf", "oneOf")) {
                if (s.has(combinator)) {
                    // oneOf is read as anyOf: a value that happens to match two branches is not excluded
                    List<Grammar> options = new ArrayList<>();
                    int i = 0;
                    for (JsonNode branch : s.get(combinator)) options.add(schema(branch, path + "." + combinator + "[" + i++ + "]"));
                    if (options.isEmpty()) throw new UnsupportedSchemaException(path + "." + combinator + " must not be empty");
                    return new Grammar.Choice(options);
                }
            }
            JsonNode type = s.get("type");
            if (type == null) {
                checkKeywords(s, path, Set.of("$defs", "definitions"));
                return any();
            }
            if (type.isArray()) {
                List<Grammar> options = new ArrayList<>();
                for (JsonNode t : type) options.add(typed(s, t.asText(), path));
                return new Grammar.Choice(options);
            }
            return typed(s, type.asText(), path);
        }

        private Grammar typed(JsonNode s, String type, String path) {
            return switch (type) {
                case "object" -> object(s, path);
                case "array" -> array(s, path);
                case "string" -> {
                    checkKeywords(s, path, Set.of("type", "minLength", "maxLength"));
                    yield new Grammar.JsonString(s.path("minLength").asInt(0), s.has("maxLength") ? s.get("maxLength").asInt() : Integer.MAX_VALUE);
                }
                case "integer", "number" -> {
                    checkKeywords(s, path, Set.of("type"));
                    yield new Grammar.JsonNumber(type.equals("integer"));
                }
                case "boolean" -> {
                    checkKeywords(s, path, Set.of("type"));
                    yield choice(lit("true"), lit("false"));
                }
                case "null" -> lit("null");
                default -> throw new UnsupportedSchemaException(path + ".type '" + type + "' is not a JSON schema type");
            };
        }

        private Grammar object(JsonNode s, String path) {
            checkKeywords(s, path, Set.of("type", "properties", "$defs", "definitions"));
            JsonNode props = s.get("properties");
            if (props == null || props.isEmpty()) {
                if (s.path("additionalProperties").isBoolean() && !s.get("additionalProperties").asBoolean()) return lit("{}");
                any();
                return object;
            }
            JsonNode required = s.get("required");
            List<Grammar> items = new ArrayList<>(List.of(lit("{"), WS));
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> p = it.next();
                if (!first) items.addAll(List.of(WS, lit(","), WS));
                first = false;
                items.addAll(List.of(literal(JSON.getNodeFactory().textNode(p.getKey())), WS, lit(":"), WS, schema(p.getValue(), path + ".properties." + p.getKey())));
            }
            if (required != null) {
                for (JsonNode r : required) {
                    if (!props.has(r.asText())) throw new UnsupportedSchemaException(path + ".required names '" + r.asText() + "', which is not among the properties");
                }
            }
            items.addAll(List.of(WS, lit("}")));
            return new Grammar.Sequence(items);
        }

        private Grammar array(JsonNode s, String path) {
            checkKeywords(s, path, Set.of("type", "items", "minItems", "maxItems"));
            Grammar item = s.has("items") ? schema(s.get("items"), path + ".items") : any();
            int min = s.path("minItems").asInt(0);
            int max = s.has("maxItems") ? s.get("maxItems").asInt() : Integer.MAX_VALUE;
            if (min < 0 || max < min) throw new UnsupportedSchemaException(path + ": minItems " + min + " and maxItems " + max + " allow no array");
            if (max == 0) return seq(lit("["), WS, lit("]"));
            if (min > UNROLL) throw new UnsupportedSchemaException(path + ".minItems above " + UNROLL + " is not supported");
            Grammar more = EMPTY;
            if (max > UNROLL) {
                Grammar.Rule rest = new Grammar.Rule(path + ".items*");
                rest.define(choice(EMPTY, seq(WS, lit(","), WS, item, rest)));
                more = rest;
                max = Math.max(min, 1);
            }
            // items beyond the minimum, innermost first: each optional, and the next only after it
            for (int i = max - 1; i >= Math.max(min, 1); i--) more = choice(EMPTY, seq(WS, lit(","), WS, item, more));
            List<Grammar> items = new ArrayList<>(List.of(lit("["), WS));
            if (min == 0) {
                items.add(choice(EMPTY, seq(item, more)));
            } else {
                items.add(item);
                for (int i = 1; i < min; i++) items.addAll(List.of(WS, lit(","), WS, item));
                items.add(more);
            }
            items.addAll(List.of(WS, lit("]")));
            return new Grammar.Sequence(items);
        }

        private Grammar ref(String ref, String path) {
            Grammar.Rule known = refs.get(ref);
            if (known != null) return known;
            if (root == null || !ref.startsWith("#/")) throw new UnsupportedSchemaException(path + ".$ref '" + ref + "': only local references (#/...) are supported");
            JsonNode target = root.at(ref.substring(1));
            if (target.isMissingNode()) throw new UnsupportedSchemaException(path + ".$ref '" + ref + "' points to nothing");
            Grammar.Rule rule = new Grammar.Rule(ref);
            refs.put(ref, rule);
            rule.define(schema(target, ref));
            return rule;
        }

        private static Grammar literal(JsonNode value) {
            try {
                return lit(JSON.writeValueAsString(value));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void checkKeywords(JsonNode s, String path, Set<String> allowed) {
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k) && !ANNOTATIONS.contains(k)) {
                    throw new UnsupportedSchemaException(path + ": the keyword '" + k + "' is not supported by constrained decoding");
                }
            }
        }
    }
}
