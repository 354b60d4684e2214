package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.serving.ServingEngine;

import java.util.Iterator;
import java.util.Set;

/** vLLM's {@code POST /tokenize} and {@code POST /detokenize}, with the same request and response shapes. */
final class Tokenization {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOKENIZE = Set.of("model", "prompt", "messages", "tools", "add_special_tokens",
            "add_generation_prompt", "return_token_strs");
    private static final Set<String> DETOKENIZE = Set.of("model", "tokens");

    private Tokenization() {
    }

    /**
     * {@code {prompt}} or {@code {messages}} (and {@code tools}, through the chat template) to {@code {count, max_model_len, tokens}}
     * (and {@code token_strs} when asked): the ids a completion of it would count, special tokens added as there
     * unless {@code add_special_tokens} is false.
     */
    static ObjectNode tokenize(JsonNode body, String model, ServingEngine engine) {
        check(body, TOKENIZE, model);
        Tokenizer tokenizer = engine.model().tokenizer();
        boolean hasPrompt = body.hasNonNull("prompt"), hasMessages = body.hasNonNull("messages");
        if (hasPrompt == hasMessages) throw ApiError.invalid("give exactly one of 'prompt' and 'messages'", hasPrompt ? "messages" : "prompt");
        String text;
        if (hasPrompt) {
            if (!body.get("prompt").isTextual()) throw ApiError.invalid("'prompt' must be a string", "prompt");
            text = body.get("prompt").asText();
        } else {
            text = ChatInput.parse(body, tokenizer, CompletionRequest.bool(body, "add_generation_prompt", true)).prompt();
        }
        int[] ids = CompletionRequest.bool(body, "add_special_tokens", true) ? engine.tokenize(text) : tokenizer.encode(text, false);
        ObjectNode out = JSON.createObjectNode().put("count", ids.length);
        if (engine.contextLength() != Integer.MAX_VALUE) out.put("max_model_len", engine.contextLength());
        else out.putNull("max_model_len");
        ArrayNode tokens = out.putArray("tokens");
        for (int id : ids) tokens.add(id);
        if (CompletionRequest.bool(body, "return_token_strs", false)) {
            ArrayNode strs = out.putArray("token_strs");
            for (int id : ids) strs.add(tokenizer.tokenString(id));
        }
        return out;
    }

    /** {@code {tokens}} to {@code {prompt}}: the text of the ids, special tokens included. */
    static ObjectNode detokenize(JsonNode body, String model, ServingEngine engine) {
        check(body, DETOKENIZE, model);
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) throw ApiError.invalid("'tokens' must be a list of token ids", "tokens");
        int vocab = engine.model().config().vocabSize();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= vocab) {
                throw ApiError.invalid("tokens[" + i + "] = " + t + " is not a token id in [0, " + vocab + ")", "tokens");
            }
            ids[i] = t.asInt();
        }
        return JSON.createObjectNode().put("prompt", engine.model().tokenizer().decode(ids, false));
    }

    private static void check(JsonNode body, Set<String> known, String model) {
        if (body == null || !body.isObject()) throw ApiError.invalid("the request body must be a JSON object", null);
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) throw ApiError.invalid("unrecognized request argument '" + f + "'", f, "unknown_parameter");
        }
        CompletionRequest.checkModel(body, model);
    }
}
