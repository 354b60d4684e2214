package dev.floe.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A conversation to format with a model's chat template: the messages, the tools the model may call, whether to end
 * with the assistant's generation prompt, extra template variables (such as {@code enable_thinking} or
 * {@code date_string}), and whether ChatML may stand in for a template Floe cannot render.
 *
 * @param messages            the conversation
 * @param tools               tool definitions as JSON values (maps, lists, strings, numbers, booleans, null), usually
 *                            OpenAI's {@code {"type": "function", "function": {...}}}; passed to the template as
 *                            {@code tools}, which is none when this list is empty (as transformers passes it)
 * @param addGenerationPrompt whether the prompt ends where the assistant's reply begins
 * @param variables           further template variables; they override the special tokens of the same name
 * @param chatMlFallback      when true, a template Floe cannot render gives ChatML instead of an error
 */
public record ChatRequest(List<ChatMessage> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt,
                          Map<String, Object> variables, boolean chatMlFallback) {

    public ChatRequest {
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
        tools = tools == null ? List.of() : List.copyOf(tools);
        variables = variables == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(variables));
    }

    /** The messages, with the generation prompt, no tools, no variables and no fallback. */
    public static ChatRequest of(List<ChatMessage> messages) {
        return new ChatRequest(messages, List.of(), true, Map.of(), false);
    }

    public ChatRequest withTools(List<Map<String, Object>> tools) {
        return new ChatRequest(messages, tools, addGenerationPrompt, variables, chatMlFallback);
    }

    public ChatRequest withGenerationPrompt(boolean add) {
        return new ChatRequest(messages, tools, add, variables, chatMlFallback);
    }

    public ChatRequest withVariables(Map<String, Object> variables) {
        return new ChatRequest(messages, tools, addGenerationPrompt, variables, chatMlFallback);
    }

    public ChatRequest withChatMlFallback(boolean fallback) {
        return new ChatRequest(messages, tools, addGenerationPrompt, variables, fallback);
    }
}
