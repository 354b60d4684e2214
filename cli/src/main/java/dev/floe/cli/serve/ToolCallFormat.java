package dev.floe.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.runtime.grammar.Grammar;
import dev.floe.runtime.grammar.JsonGrammars;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * How the chat template families that define tool calling have the model write a call, read back from the output
 * into OpenAI's {@code tool_calls} (as vLLM's tool parsers do), and as a grammar when a call is required.
 * <ul>
 *   <li>{@link #HERMES} (Hermes, Qwen 2.5/3, Granite 4): {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, one per call;</li>
 *   <li>{@link #LLAMA3_JSON} (Llama 3.1-3.3, 4): a JSON object {@code {"name": ..., "parameters": {...}}}, optionally after
 *       {@code <|python_tag|>}, several separated by {@code ;};</li>
 *   <li>{@link #MISTRAL}: {@code [TOOL_CALLS]} followed by a JSON list of {@code {"name", "arguments"}} (or, in newer
 *       templates, {@code name[ARGS]{...}} per call). {@code [TOOL_CALLS]} is a special token, so a call cannot be forced
 *       by a grammar, which reads text.</li>
 * </ul>
 */
enum ToolCallFormat {
    HERMES, LLAMA3_JSON, MISTRAL;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the output said: its text outside the calls (null when none) and the calls. */
    record Parsed(String content, List<ChatMessage.ToolCall> calls) {
    }

    /** The format a chat template writes tool calls in, if it defines one. */
    static Optional<ToolCallFormat> of(String template) {
        if (template == null) return Optional.empty();
        if (template.contains("[TOOL_CALLS]")) return Optional.of(MISTRAL);
        if (template.contains("<tool_call>")) return Optional.of(HERMES);
        if (template.contains("<|start_header_id|>") && (template.contains("<|python_tag|>") || template.contains("\"parameters\""))) {
            return Optional.of(LLAMA3_JSON);
        }
        return Optional.empty();
    }

    /** Reads the calls out of {@code raw} (the output decoded with its special tokens); text that is no call stays content. */
    Parsed parse(String raw) {
        try {
            return switch (this) {
                case HERMES -> hermes(raw);
                case LLAMA3_JSON -> llama(raw);
                case MISTRAL -> mistral(raw);
            };
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return new Parsed(raw, List.of()); // not a well-formed call: the model's text, as written
        }
    }

    /**
     * The output a call of one of {@code tools} must take (OpenAI's {@code tool_choice: required}, or a named
     * function when {@code tools} holds only it), its arguments following the function's {@code parameters} schema.
     *
     * @throws JsonGrammars.UnsupportedSchemaException when a schema cannot be enforced
     * @throws IllegalStateException                  for {@link #MISTRAL}, whose calls start with a special token
     */
    Grammar grammar(List<JsonNode> tools) {
        if (this == MISTRAL) throw new IllegalStateException("a Mistral tool call starts with the special token [TOOL_CALLS], which a grammar cannot force");
        List<Grammar> calls = new ArrayList<>();
        for (JsonNode tool : tools) {
            JsonNode fn = tool.get("function");
            JsonNode params = fn.get("parameters");
            Grammar args = params == null || params.isNull() ? JsonGrammars.anyObject() : JsonGrammars.fromSchema(params);
            String name = JSON.getNodeFactory().textNode(fn.get("name").asText()).toString();
            calls.add(Grammar.seq(Grammar.lit("{\"name\": " + name + ", \"" + (this == HERMES ? "arguments" : "parameters") + "\": "), args, Grammar.lit("}")));
        }
        Grammar call = new Grammar.Choice(calls);
        return this == HERMES ? Grammar.seq(Grammar.lit("<tool_call>\n"), call, Grammar.lit("\n</tool_call>")) : call;
    }

    private static Parsed hermes(String raw) throws JsonProcessingException {
        int first = raw.indexOf("<tool_call>");
        if (first < 0) return new Parsed(raw, List.of());
        List<ChatMessage.ToolCall> calls = new ArrayList<>();
        for (int at = first; at >= 0; at = raw.indexOf("<tool_call>", at)) {
            int start = at + "<tool_call>".length();
            int end = raw.indexOf("</tool_call>", start);
            String body = end < 0 ? raw.substring(start) : raw.substring(start, end);
            calls.add(call(JSON.readTree(body.strip()), "arguments"));
            at = end < 0 ? -1 : end + "</tool_call>".length();
        }
        return new Parsed(content(raw.substring(0, first)), calls);
    }

    private static Parsed llama(String raw) throws JsonProcessingException {
        String text = raw.strip();
        if (text.startsWith("<|python_tag|>")) text = text.substring("<|python_tag|>".length()).strip();
        for (String end : List.of("<|eom_id|>", "<|eot_id|>")) if (text.endsWith(end)) text = text.substring(0, text.length() - end.length()).strip();
        if (!text.startsWith("{")) return new Parsed(raw, List.of());
        List<ChatMessage.ToolCall> calls = new ArrayList<>();
        for (String part : text.split(";\\s*(?=\\{)")) calls.add(call(JSON.readTree(part), "parameters"));
        return new Parsed(null, calls);
    }

    private static Parsed mistral(String raw) throws JsonProcessingException {
        int at = raw.indexOf("[TOOL_CALLS]");
        if (at < 0) return new Parsed(raw, List.of());
        String rest = raw.substring(at + "[TOOL_CALLS]".length()).strip();
        for (String end : List.of("</s>")) if (rest.endsWith(end)) rest = rest.substring(0, rest.length() - end.length()).strip();
        List<ChatMessage.ToolCall> calls = new ArrayList<>();
        if (rest.startsWith("[")) {
            JsonNode list = JSON.readTree(rest);
            if (!list.isArray()) throw new IllegalArgumentException("not a list of calls");
            for (JsonNode c : list) calls.add(call(c, "arguments"));
        } else {
            // name[ARGS]{...}[TOOL_CALLS]name[ARGS]{...}
            for (String one : rest.split("\\[TOOL_CALLS]")) {
                int args = one.indexOf("[ARGS]");
                if (args < 0) throw new IllegalArgumentException("a call without [ARGS]");
                JsonNode arguments = JSON.readTree(one.substring(args + "[ARGS]".length()).strip());
                calls.add(new ChatMessage.ToolCall(newId(), one.substring(0, args).strip(), JSON.writeValueAsString(arguments)));
            }
        }
        return new Parsed(content(raw.substring(0, at)), calls);
    }

    private static ChatMessage.ToolCall call(JsonNode c, String argumentsField) throws JsonProcessingException {
        if (c == null || !c.isObject() || !c.path("name").isTextual()) throw new IllegalArgumentException("a call needs a name");
        JsonNode args = c.has(argumentsField) ? c.get(argumentsField) : c.get(argumentsField.equals("arguments") ? "parameters" : "arguments");
        if (args == null || args.isNull()) args = JSON.createObjectNode();
        String text = args.isTextual() ? args.asText() : JSON.writeValueAsString(args);
        return new ChatMessage.ToolCall(newId(), c.get("name").asText(), text);
    }

    private static String content(String text) {
        String t = text.strip();
        return t.isEmpty() ? null : t;
    }

    /** An id in OpenAI's form. */
    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }
}
