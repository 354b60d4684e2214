package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.ChatMessage;
import dev.floe.api.GenerationRequest;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.SamplingParams;
import dev.floe.api.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A validated OpenAI completion or chat completion request. Every field is checked for its type and range, and
 * errors name the field ({@code param}) as OpenAI does.
 *
 * @param request the engine request
 * @param stream  whether the answer is streamed as server-sent events
 * @param chat    whether it came from {@code /v1/chat/completions}
 */
record CompletionRequest(GenerationRequest request, boolean stream, boolean chat) {
    /** Parses a request body; {@code model} is the one name this server serves. */
    static CompletionRequest parse(JsonNode body, boolean chat, String model, Tokenizer tokenizer, int maxNewTokens) {
        if (body == null || !body.isObject()) throw ApiError.invalid("the request body must be a JSON object", null);
        JsonNode m = body.get("model");
        if (m != null && !m.isNull()) {
            if (!m.isTextual()) throw ApiError.invalid("'model' must be a string", "model");
            if (!m.asText().equals(model)) {
                throw ApiError.invalid("the model '" + m.asText() + "' does not exist; this server serves '" + model + "'", "model", "model_not_found");
            }
        }
        String prompt = chat ? chatPrompt(body.get("messages"), tokenizer) : textPrompt(body.get("prompt"));
        int defaultMax = Math.min(chat ? 256 : 16, maxNewTokens);
        int maxTokens = integer(body, chat && body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens", defaultMax);
        if (maxTokens < 1 || maxTokens > maxNewTokens) {
            String field = chat && body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
            throw ApiError.invalid("'" + field + "' must be in [1, " + maxNewTokens + "], got " + maxTokens, field);
        }
        double temperature = number(body, "temperature", 1.0);
        if (temperature < 0 || temperature > 2) throw ApiError.invalid("'temperature' must be in [0, 2], got " + temperature, "temperature");
        double topP = number(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) throw ApiError.invalid("'top_p' must be in (0, 1], got " + topP, "top_p");
        int topK = integer(body, "top_k", 0);
        if (topK < 0) throw ApiError.invalid("'top_k' must be >= 0, got " + topK, "top_k");
        long seed = body.has("seed") && !body.get("seed").isNull() ? longValue(body, "seed") : System.nanoTime();
        int n = integer(body, "n", 1);
        if (n != 1) throw ApiError.invalid("only n=1 is supported, got " + n, "n");
        boolean stream = bool(body, "stream", false);
        List<String> stop = stops(body.get("stop"));
        try {
            GenerationRequest r = GenerationRequest.of(prompt, maxTokens)
                    .withSampling(new SamplingParams(temperature, topK, topP, seed)).withStop(stop)
                    .withIgnoreEos(bool(body, "ignore_eos", false));
            if (bool(body, RoutingCollector.FIELD, false)) r = r.withObserver(new RoutingCollector()); // opt-in extension
            return new CompletionRequest(r, stream, chat);
        } catch (InvalidRequestException e) {
            throw ApiError.invalid(e.getMessage(), null);
        }
    }

    private static String textPrompt(JsonNode p) {
        if (p == null || p.isNull()) throw ApiError.invalid("'prompt' is required", "prompt");
        if (p.isTextual()) {
            if (p.asText().isEmpty()) throw ApiError.invalid("'prompt' must not be empty", "prompt");
            return p.asText();
        }
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual() && !p.get(0).asText().isEmpty()) return p.get(0).asText();
        if (p.isArray() && p.size() != 1) throw ApiError.invalid("'prompt' as a list must hold exactly one string (batches are not supported)", "prompt");
        throw ApiError.invalid("'prompt' must be a non-empty string or a list of one string", "prompt");
    }

    private static String chatPrompt(JsonNode messages, Tokenizer tokenizer) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("'messages' must be a non-empty list of {role, content}", "messages");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode msg = messages.get(i);
            JsonNode role = msg.get("role"), content = msg.get("content");
            if (!msg.isObject() || role == null || !role.isTextual()) throw ApiError.invalid("messages[" + i + "].role must be a string", "messages");
            String text;
            if (content != null && content.isTextual()) {
                text = content.asText();
            } else if (content != null && content.isArray()) {
                StringBuilder sb = new StringBuilder();
                for (JsonNode part : content) {
                    if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                        throw ApiError.invalid("messages[" + i + "].content parts must be {type: text, text}", "messages");
                    }
                    sb.append(part.get("text").asText());
                }
                text = sb.toString();
            } else {
                throw ApiError.invalid("messages[" + i + "].content must be a string", "messages");
            }
            list.add(new ChatMessage(role.asText(), text));
        }
        try {
            return tokenizer.applyChatTemplate(list, true);
        } catch (RuntimeException e) {
            throw ApiError.invalid("the chat template failed on these messages: " + e.getMessage(), "messages");
        }
    }

    private static List<String> stops(JsonNode s) {
        if (s == null || s.isNull()) return List.of();
        List<String> out = new ArrayList<>();
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray() && s.size() <= 4) {
            for (JsonNode x : s) {
                if (!x.isTextual()) throw ApiError.invalid("'stop' must be a string or a list of up to 4 strings", "stop");
                out.add(x.asText());
            }
        } else {
            throw ApiError.invalid("'stop' must be a string or a list of up to 4 strings", "stop");
        }
        if (out.stream().anyMatch(String::isEmpty)) throw ApiError.invalid("'stop' strings must not be empty", "stop");
        return out;
    }

    private static int integer(JsonNode body, String field, int fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiError.invalid("'" + field + "' must be an integer, got " + v, field);
        return v.asInt();
    }

    private static long longValue(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.invalid("'" + field + "' must be an integer, got " + v, field);
        return v.asLong();
    }

    private static double number(JsonNode body, String field, double fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isNumber()) throw ApiError.invalid("'" + field + "' must be a number, got " + v, field);
        return v.asDouble();
    }

    private static boolean bool(JsonNode body, String field, boolean fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw ApiError.invalid("'" + field + "' must be true or false, got " + v, field);
        return v.asBoolean();
    }
}
