package dev.floe.api;

import java.util.Objects;

/** One message of a chat conversation. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
