package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.ChatRequest;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.grammar.Grammar;
import dev.floe.runtime.grammar.JsonGrammars;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The chat-only part of a request: the messages (tool calls and tool results included) and tools rendered by the
 * chat template, the format the template's tool calls are read back in, and the grammar the output must follow
 * ({@code response_format}, or a call that {@code tool_choice} requires).
 *
 * @param prompt     the rendered prompt
 * @param toolFormat where calls are read out of the output; null when no tools may be called
 * @param grammar    what the output must follow, or null
 */
record ChatInput(String prompt, ToolCallFormat toolFormat, Grammar grammar) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> MESSAGE_FIELDS = Set.of("role", "content", "name", "tool_calls", "tool_call_id");

    static ChatInput parse(JsonNode body, Tokenizer tokenizer, boolean generationPrompt) {
        List<ChatMessage> messages = messages(body.get("messages"));
        List<JsonNode> tools = tools(body.get("tools"));
        String choice = toolChoice(body.get("tool_choice"), tools);
        List<JsonNode> offered = choice.equals("none") ? List.of() : tools;
        ToolCallFormat format = null;
        if (!offered.isEmpty()) {
            format = ToolCallFormat.of(tokenizer.chatTemplate().orElse(null)).orElseThrow(() -> ApiError.invalid(
                    "this model's chat template defines no tool calls (Hermes/Qwen <tool_call>, Llama 3.1 JSON or Mistral [TOOL_CALLS]), so 'tools' cannot be used",
                    "tools", "unsupported_parameter"));
        }
        List<Map<String, Object>> toolMaps = new ArrayList<>();
        for (JsonNode t : offered) toolMaps.add(JSON.convertValue(t, JSON.getTypeFactory().constructMapType(Map.class, String.class, Object.class)));
        String prompt;
        try {
            prompt = tokenizer.applyChatTemplate(new ChatRequest(messages, toolMaps, generationPrompt, Map.of(), false));
        } catch (RuntimeException e) {
            throw ApiError.invalid("the chat template failed on these messages: " + e.getMessage(), "messages");
        }
        Grammar grammar = responseFormat(body.get("response_format"));
        if (format != null && !choice.equals("auto")) {
            if (grammar != null) throw ApiError.invalid("'response_format' and a required tool call cannot both constrain the output", "response_format");
            List<JsonNode> callable = choice.equals("required") ? offered : offered.stream().filter(t -> t.at("/function/name").asText().equals(choice)).toList();
            try {
                grammar = format.grammar(callable);
            } catch (JsonGrammars.UnsupportedSchemaException e) {
                throw ApiError.invalid("a tool's 'parameters' cannot be enforced: " + e.getMessage(), "tools", "unsupported_parameter");
            } catch (IllegalStateException e) {
                throw ApiError.invalid("'tool_choice' " + choice + " cannot be enforced: " + e.getMessage(), "tool_choice", "unsupported_parameter");
            }
        }
        return new ChatInput(prompt, format, grammar);
    }

    static List<ChatMessage> messages(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("'messages' must be a non-empty list of {role, content}", "messages");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode msg = messages.get(i);
            String at = "messages[" + i + "]";
            if (!msg.isObject() || !msg.path("role").isTextual()) throw ApiError.invalid(at + ".role must be a string", "messages");
            for (Iterator<String> it = msg.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!MESSAGE_FIELDS.contains(f)) throw ApiError.invalid(at + "." + f + " is not supported", "messages");
            }
            String role = msg.get("role").asText();
            List<ChatMessage.ToolCall> calls = toolCalls(msg.get("tool_calls"), at);
            String content = content(msg.get("content"), at, !calls.isEmpty());
            String callId = optionalText(msg, "tool_call_id", at);
            String name = optionalText(msg, "name", at);
            if (role.equals("tool") && callId == null) throw ApiError.invalid(at + ": a tool message needs 'tool_call_id'", "messages");
            if (!calls.isEmpty() && !role.equals("assistant")) throw ApiError.invalid(at + ": only an assistant message has 'tool_calls'", "messages");
            list.add(new ChatMessage(role, content, calls, callId, name));
        }
        return list;
    }

    private static String content(JsonNode content, String at, boolean mayBeNull) {
        if ((content == null || content.isNull()) && mayBeNull) return null;
        if (content != null && content.isTextual()) return content.asText();
        if (content != null && content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                    throw ApiError.invalid(at + ".content parts must be {type: text, text}", "messages");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid(at + ".content must be a string", "messages");
    }

    private static List<ChatMessage.ToolCall> toolCalls(JsonNode calls, String at) {
        if (calls == null || calls.isNull()) return List.of();
        if (!calls.isArray()) throw ApiError.invalid(at + ".tool_calls must be a list", "messages");
        List<ChatMessage.ToolCall> out = new ArrayList<>();
        for (JsonNode c : calls) {
            JsonNode fn = c.get("function");
            if (!c.isObject() || fn == null || !fn.path("name").isTextual() || !fn.path("arguments").isTextual()) {
                throw ApiError.invalid(at + ".tool_calls entries must be {id, type: function, function: {name, arguments}}", "messages");
            }
            out.add(new ChatMessage.ToolCall(c.path("id").isTextual() ? c.get("id").asText() : null, fn.get("name").asText(), fn.get("arguments").asText()));
        }
        return out;
    }

    private static String optionalText(JsonNode msg, String field, String at) {
        JsonNode v = msg.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiError.invalid(at + "." + field + " must be a string", "messages");
        return v.asText();
    }

    /** OpenAI's tool definitions: {@code {type: function, function: {name, description?, parameters?}}}. */
    static List<JsonNode> tools(JsonNode tools) {
        if (tools == null || tools.isNull()) return List.of();
        if (!tools.isArray()) throw ApiError.invalid("'tools' must be a list", "tools");
        List<JsonNode> out = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            JsonNode fn = t.get("function");
            if (!t.isObject() || !t.path("type").asText().equals("function") || fn == null || !fn.path("name").isTextual()
                    || fn.get("name").asText().isEmpty()) {
                throw ApiError.invalid("tools[" + i + "] must be {type: function, function: {name, description, parameters}}", "tools");
            }
            if (fn.has("parameters") && !fn.get("parameters").isObject()) throw ApiError.invalid("tools[" + i + "].function.parameters must be a JSON schema object", "tools");
            out.add(t);
        }
        return out;
    }

    /** "none", "auto", "required" or the name of the one function to call. */
    private static String toolChoice(JsonNode choice, List<JsonNode> tools) {
        if (choice == null || choice.isNull()) return tools.isEmpty() ? "none" : "auto";
        if (tools.isEmpty()) throw ApiError.invalid("'tool_choice' needs 'tools'", "tool_choice");
        if (choice.isTextual() && Set.of("none", "auto", "required").contains(choice.asText())) return choice.asText();
        if (choice.isObject() && choice.path("type").asText().equals("function") && choice.at("/function/name").isTextual()) {
            String name = choice.at("/function/name").asText();
            if (tools.stream().noneMatch(t -> t.at("/function/name").asText().equals(name))) {
                throw ApiError.invalid("'tool_choice' names the function '" + name + "', which is not among 'tools'", "tool_choice");
            }
            return name;
        }
        throw ApiError.invalid("'tool_choice' must be none, auto, required or {type: function, function: {name}}", "tool_choice");
    }

    /** OpenAI's {@code response_format}: text, {@code json_object}, or {@code json_schema} with its schema. */
    private static Grammar responseFormat(JsonNode format) {
        if (format == null || format.isNull()) return null;
        String type = format.path("type").asText("");
        return switch (type) {
            case "text" -> null;
            case "json_object" -> JsonGrammars.anyObject();
            case "json_schema" -> {
                JsonNode schema = format.at("/json_schema/schema");
                if (!schema.isObject()) throw ApiError.invalid("'response_format.json_schema.schema' must be a JSON schema object", "response_format");
                try {
                    yield JsonGrammars.fromSchema(schema);
                } catch (JsonGrammars.UnsupportedSchemaException e) {
                    throw ApiError.invalid("the schema cannot be enforced: " + e.getMessage(), "response_format", "unsupported_parameter");
                }
            }
            default -> throw ApiError.invalid("'response_format.type' must be text, json_object or json_schema, got '" + type + "'", "response_format");
        };
    }
}
