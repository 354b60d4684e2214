package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.GenerationRequest;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.SamplingParams;
import dev.floe.runtime.grammar.GrammarConstraint;
import dev.floe.runtime.serving.ServingEngine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated OpenAI completion or chat completion request. Every field is checked for its type and range, and
 * errors name the field ({@code param}) as OpenAI does. A field this server does not implement is an error naming
 * it, never silently ignored.
 *
 * @param request      the engine request of the first choice (the others differ in their seed)
 * @param stream       whether the answer is streamed as server-sent events
 * @param chat         whether it came from {@code /v1/chat/completions}
 * @param n            how many choices to generate
 * @param logprobs     -1: none; k >= 0: each token's log-probability and its k most likely alternatives
 * @param echo         whether a completion's text starts with its prompt
 * @param includeUsage whether a stream ends with a chunk carrying only the usage ({@code stream_options})
 * @param prompt       the prompt text (after the chat template)
 * @param promptTokens the prompt's length in tokens
 * @param toolFormat   where tool calls are read out of the output; null when no tools may be called
 * @param parallelToolCalls whether more than one tool call may be returned
 */
record CompletionRequest(GenerationRequest request, boolean stream, boolean chat, int n, int logprobs, boolean echo,
                         boolean includeUsage, String prompt, int promptTokens, ToolCallFormat toolFormat,
                         boolean parallelToolCalls) {
    /** Most choices one request may ask for ({@code n}): each is a sequence in the engine. */
    static final int MAX_N = 16;

    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "n",
            "stream", "stream_options", "stop", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
            "logprobs", "ignore_eos", "user", "best_of", RoutingCollector.FIELD);
    private static final Set<String> COMPLETION = Set.of("prompt", "echo", "suffix");
    private static final Set<String> CHAT = Set.of("messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice",
            "response_format", "parallel_tool_calls");
    /** OpenAI parameters this server knows but does not implement: named in a 400 when given a non-default value. */
    private static final Set<String> UNSUPPORTED = Set.of("suffix", "functions", "function_call", "audio", "modalities", "prediction",
            "web_search_options", "reasoning_effort", "store", "metadata", "service_tier");

    /** Parses a request body; {@code model} is the one name this server serves. */
    static CompletionRequest parse(JsonNode body, boolean chat, String model, ServingEngine engine) {
        if (body == null || !body.isObject()) throw ApiError.invalid("the request body must be a JSON object", null);
        rejectUnknown(body, chat);
        checkModel(body, model);
        ChatInput input = chat ? ChatInput.parse(body, engine.model().tokenizer(), true) : null;
        String prompt = chat ? input.prompt() : textPrompt(body.get("prompt"));
        int promptTokens;
        int[] ids;
        try {
            ids = engine.tokenize(prompt);
            promptTokens = ids.length;
        } catch (RuntimeException e) {
            throw ApiError.invalid("the prompt cannot be tokenized: " + e.getMessage(), chat ? "messages" : "prompt");
        }
        int maxTokens = maxTokens(body, chat, engine, promptTokens);
        double temperature = number(body, "temperature", 1.0);
        if (temperature < 0 || temperature > 2) throw ApiError.invalid("'temperature' must be in [0, 2], got " + temperature, "temperature");
        double topP = number(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) throw ApiError.invalid("'top_p' must be in (0, 1], got " + topP, "top_p");
        int topK = integer(body, "top_k", 0);
        if (topK < 0) throw ApiError.invalid("'top_k' must be >= 0, got " + topK, "top_k");
        double minP = number(body, "min_p", 0);
        if (!(minP >= 0 && minP <= 1)) throw ApiError.invalid("'min_p' must be in [0, 1], got " + minP, "min_p");
        double presence = number(body, "presence_penalty", 0);
        if (!(Math.abs(presence) <= 2)) throw ApiError.invalid("'presence_penalty' must be in [-2, 2], got " + presence, "presence_penalty");
        double frequency = number(body, "frequency_penalty", 0);
        if (!(Math.abs(frequency) <= 2)) throw ApiError.invalid("'frequency_penalty' must be in [-2, 2], got " + frequency, "frequency_penalty");
        double repetition = number(body, "repetition_penalty", 1);
        if (!(repetition > 0 && repetition <= 10)) throw ApiError.invalid("'repetition_penalty' must be in (0, 10], got " + repetition, "repetition_penalty");
        Map<Integer, Double> bias = logitBias(body.get("logit_bias"), engine.model().config().vocabSize());
        long seed = body.has("seed") && !body.get("seed").isNull() ? longValue(body, "seed") : System.nanoTime();
        int n = integer(body, "n", 1);
        if (n < 1 || n > MAX_N) throw ApiError.invalid("'n' must be in [1, " + MAX_N + "], got " + n, "n");
        JsonNode bestOf = body.get("best_of");
        if (bestOf != null && !bestOf.isNull() && !(bestOf.isIntegralNumber() && bestOf.asInt() == n)) {
            throw ApiError.invalid("'best_of' other than n is not supported (only the choices generated are returned), got " + bestOf, "best_of", "unsupported_parameter");
        }
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = streamOptions(body.get("stream_options"), stream);
        int logprobs = chat ? chatLogprobs(body) : completionLogprobs(body);
        boolean echo = !chat && bool(body, "echo", false);
        if (echo && logprobs >= 0) {
            throw ApiError.invalid("'echo' with 'logprobs' would need the prompt's log-probabilities, which this server does not compute", "echo", "unsupported_parameter");
        }
        List<String> stop = stops(body.get("stop"));
        try {
            SamplingParams sampling = new SamplingParams(temperature, topK, topP, seed, minP, presence, frequency, repetition, bias);
            GenerationRequest r = GenerationRequest.ofIds(ids, maxTokens).withSampling(sampling).withStop(stop)
                    .withIgnoreEos(bool(body, "ignore_eos", false)).withLogprobs(logprobs);
            if (input != null && input.grammar() != null) {
                r = r.withConstraint(new GrammarConstraint(input.grammar(), engine.model().tokenizer(), engine.model().config(), maxTokens));
            }
            if (bool(body, RoutingCollector.FIELD, false)) r = r.withObserver(new RoutingCollector()); // opt-in extension
            return new CompletionRequest(r, stream, chat, n, logprobs, echo, includeUsage, prompt, promptTokens,
                    input == null ? null : input.toolFormat(), bool(body, "parallel_tool_calls", true));
        } catch (InvalidRequestException e) {
            throw ApiError.invalid(e.getMessage(), null);
        }
    }

    /** The engine request of choice {@code index}: the same but for its seed, so that sampled choices differ. */
    GenerationRequest choice(int index) {
        return index == 0 ? request : request.withSampling(request.sampling().withSeed(request.sampling().seed() + index));
    }

    private static void rejectUnknown(JsonNode body, boolean chat) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (body.get(field).isNull()) continue;
            if (UNSUPPORTED.contains(field)) {
                throw ApiError.invalid("'" + field + "' is not supported by this server", field, "unsupported_parameter");
            }
            if (!COMMON.contains(field) && !(chat ? CHAT : COMPLETION).contains(field)) {
                throw ApiError.invalid("unrecognized request argument '" + field + "'" + (chat ? " for chat completions" : " for completions"),
                        field, "unknown_parameter");
            }
        }
    }

    static void checkModel(JsonNode body, String model) {
        JsonNode m = body.get("model");
        if (m != null && !m.isNull()) {
            if (!m.isTextual()) throw ApiError.invalid("'model' must be a string", "model");
            if (!m.asText().equals(model)) {
                throw ApiError.invalid("the model '" + m.asText() + "' does not exist; this server serves '" + model + "'", "model", "model_not_found");
            }
        }
    }

    /**
     * {@code max_tokens} (or {@code max_completion_tokens}); without it, the default is cut to the room the context
     * leaves. A prompt and an explicit maximum that do not fit the context are {@code context_length_exceeded}.
     */
    private static int maxTokens(JsonNode body, boolean chat, ServingEngine engine, int promptTokens) {
        String field = chat && body.has("max_completion_tokens") && !body.get("max_completion_tokens").isNull() ? "max_completion_tokens" : "max_tokens";
        int limit = engine.maxNewTokens();
        long room = (long) engine.contextLength() - promptTokens;
        boolean given = body.has(field) && !body.get(field).isNull();
        int maxTokens = integer(body, field, (int) Math.min(Math.min(chat ? 256 : 16, limit), Math.max(room, 1)));
        if (maxTokens < 1 || maxTokens > limit) throw ApiError.invalid("'" + field + "' must be in [1, " + limit + "], got " + maxTokens, field);
        if (room < 1 || (given && maxTokens > room)) {
            throw ApiError.invalid("this model's maximum context length is " + engine.contextLength() + " tokens; the request has "
                    + promptTokens + " in the " + (chat ? "messages" : "prompt") + (given ? " and asks for " + maxTokens + " in the completion" : "")
                    + ". Shorten the prompt or lower " + field + ".", chat ? "messages" : "prompt", "context_length_exceeded");
        }
        return maxTokens;
    }

    private static boolean streamOptions(JsonNode options, boolean stream) {
        if (options == null || options.isNull()) return false;
        if (!stream) throw ApiError.invalid("'stream_options' is only allowed when 'stream' is true", "stream_options");
        if (!options.isObject()) throw ApiError.invalid("'stream_options' must be an object", "stream_options");
        for (Iterator<String> it = options.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("include_usage")) throw ApiError.invalid("'stream_options." + f + "' is not supported", "stream_options." + f, "unsupported_parameter");
        }
        return bool(options, "include_usage", false);
    }

    /** Completions: {@code logprobs} is the number of alternatives per token (0 for the chosen token only). */
    private static int completionLogprobs(JsonNode body) {
        int k = integer(body, "logprobs", -1);
        if (body.has("logprobs") && !body.get("logprobs").isNull() && (k < 0 || k > GenerationRequest.MAX_TOP_LOGPROBS)) {
            throw ApiError.invalid("'logprobs' must be in [0, " + GenerationRequest.MAX_TOP_LOGPROBS + "], got " + k, "logprobs");
        }
        return k;
    }

    /** Chat: {@code logprobs} true turns them on, {@code top_logprobs} asks for alternatives and needs it. */
    private static int chatLogprobs(JsonNode body) {
        boolean on = bool(body, "logprobs", false);
        JsonNode top = body.get("top_logprobs");
        if (top == null || top.isNull()) return on ? 0 : -1;
        int k = integer(body, "top_logprobs", 0);
        if (k < 0 || k > GenerationRequest.MAX_TOP_LOGPROBS) {
            throw ApiError.invalid("'top_logprobs' must be in [0, " + GenerationRequest.MAX_TOP_LOGPROBS + "], got " + k, "top_logprobs");
        }
        if (!on) throw ApiError.invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        return k;
    }

    private static Map<Integer, Double> logitBias(JsonNode bias, int vocabSize) {
        if (bias == null || bias.isNull()) return Map.of();
        if (!bias.isObject()) throw ApiError.invalid("'logit_bias' must be an object of token id to bias", "logit_bias");
        Map<Integer, Double> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = bias.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ApiError.invalid("'logit_bias' keys must be token ids, got '" + e.getKey() + "'", "logit_bias");
            }
            if (id < 0 || id >= vocabSize) throw ApiError.invalid("'logit_bias' token id " + id + " is outside the vocabulary [0, " + vocabSize + ")", "logit_bias");
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(Math.abs(v.asDouble()) <= 100)) {
                throw ApiError.invalid("'logit_bias' of token " + id + " must be a number in [-100, 100], got " + v, "logit_bias");
            }
            out.put(id, v.asDouble());
        }
        return out;
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

    static int integer(JsonNode body, String field, int fallback) {
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

    static boolean bool(JsonNode body, String field, boolean fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw ApiError.invalid("'" + field + "' must be true or false, got " + v, field);
        return v.asBoolean();
    }
}
