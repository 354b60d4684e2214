package dev.floe.api;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Text to token ids and back, as the model's {@code tokenizer.json} describes. Implementations are thread-safe. */
public interface Tokenizer {

    /**
     * Encodes text.
     *
     * @param addSpecialTokens whether the post-processor's special tokens (such as {@code <s>}) are added
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** Decodes ids to text, optionally leaving special tokens out. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** A decoder for a stream of ids that emits only complete characters (byte-fallback tokens may split one). */
    StreamingDecoder streamingDecoder(boolean skipSpecialTokens);

    /**
     * A streaming decoder that continues after {@code context} (the prompt), so that the first generated token keeps
     * the leading space a whole-text decode would give it.
     */
    default StreamingDecoder streamingDecoder(boolean skipSpecialTokens, int[] context) {
        return streamingDecoder(skipSpecialTokens);
    }

    /** Number of ids, added tokens included. */
    int vocabSize();

    /** The token string of an id (for example {@code ▁def} or {@code <0x0A>}). */
    String tokenString(int id);

    /** The id of a token string, if it exists. */
    OptionalInt tokenId(String token);

    /** Whether the id is a special token (never produced from plain text). */
    boolean isSpecial(int id);

    /** The begin-of-sequence id, if the tokenizer has one. */
    OptionalInt bosId();

    /** The end-of-sequence id, if the tokenizer has one. */
    OptionalInt eosId();

    /** The chat template of {@code tokenizer_config.json}, if any (a Jinja string, kept as given). */
    Optional<String> chatTemplate();

    /**
     * Formats a conversation into a prompt with the model's chat template (ChatML when the model has none).
     *
     * @throws ModelFormatException if the model's template uses something Floe cannot render (the message names the
     *                              construct and template line); {@link #applyChatTemplate(ChatRequest)} can ask for
     *                              ChatML instead
     * @throws InvalidRequestException if the template refuses the conversation ({@code raise_exception})
     */
    String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt);

    /**
     * Formats a conversation with tools, extra template variables and an optional ChatML fallback. The default
     * serves tokenizers written before this method: it renders plain conversations through
     * {@link #applyChatTemplate(List, boolean)} and refuses tools, tool messages and variables.
     */
    default String applyChatTemplate(ChatRequest request) {
        boolean plain = request.tools().isEmpty() && request.variables().isEmpty() && request.messages().stream()
                .allMatch(m -> m.toolCalls().isEmpty() && m.toolCallId() == null && m.name() == null);
        if (!plain) {
            throw new InvalidRequestException(getClass().getSimpleName() + " cannot format tools, tool calls or "
                    + "template variables");
        }
        return applyChatTemplate(request.messages(), request.addGenerationPrompt());
    }

    /**
     * Why the model's chat template cannot be rendered (the construct and template line), or empty when it can be or
     * when there is none.
     */
    default Optional<String> chatTemplateProblem() {
        return Optional.empty();
    }

    /** Decodes ids one at a time into text pieces. */
    interface StreamingDecoder {
        /** Adds one id and returns the text it completes (possibly empty). */
        String next(int id);

        /** Returns any text still held back (an incomplete byte sequence is replaced by U+FFFD). */
        String flush();
    }
}
