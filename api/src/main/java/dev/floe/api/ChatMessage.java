package dev.floe.api;

import java.util.List;
import java.util.Objects;

/**
 * One message of a chat conversation, as the OpenAI chat API and Hugging Face chat templates know it.
 *
 * <p>Most messages are a role and text. An assistant message may instead (or also) carry {@link #toolCalls()}, and
 * then its content may be null, as OpenAI sends it. A {@code tool} message answers a call: its
 * {@link #toolCallId()} names the call and {@link #name()} the tool. A template sees each message as a dict with the
 * keys {@code role} and {@code content}, then {@code tool_calls}, {@code tool_call_id} and {@code name} where present.
 *
 * @param role       {@code system}, {@code user}, {@code assistant}, {@code tool} or another role the template knows
 * @param content    the text; null only for an assistant message that makes tool calls
 * @param toolCalls  the tool calls of an assistant message (empty otherwise)
 * @param toolCallId the call a {@code tool} message answers, or null
 * @param name       the tool (or participant) name, or null
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (content == null && toolCalls.isEmpty()) {
            throw new NullPointerException("content (only a message with tool calls may have none)");
        }
    }

    /** A message of text, such as {@code new ChatMessage("user", "Hi")}. */
    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    /** An assistant message that calls tools; {@code content} may be null. */
    public static ChatMessage assistantToolCalls(String content, List<ToolCall> toolCalls) {
        if (toolCalls == null || toolCalls.isEmpty()) {
            throw new IllegalArgumentException("toolCalls: an assistant tool-call message needs at least one call");
        }
        return new ChatMessage("assistant", content, toolCalls, null, null);
    }

    /** The result of a tool call, for the model to read. */
    public static ChatMessage toolResult(String toolCallId, String name, String content) {
        return new ChatMessage("tool", Objects.requireNonNull(content, "content"), List.of(), toolCallId, name);
    }

    /**
     * A function call an assistant made.
     *
     * @param id        the call's id (OpenAI's {@code call_...}), or null
     * @param name      the function's name
     * @param arguments the arguments as a JSON object text, as the OpenAI API carries them; templates receive them
     *                  parsed (a dict), as transformers documents and vLLM does
     */
    public record ToolCall(String id, String name, String arguments) {
        public ToolCall {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(arguments, "arguments");
        }
    }
}
