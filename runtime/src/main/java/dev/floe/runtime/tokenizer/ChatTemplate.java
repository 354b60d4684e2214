package dev.floe.runtime.tokenizer;

import dev.floe.api.ChatMessage;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import dev.floe.runtime.tokenizer.JinjaParser.Node;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat template of {@code tokenizer_config.json}, interpreted with a small Jinja subset: text, {@code {{ }}},
 * {@code if/elif/else}, {@code for} (with {@code loop.*}, {@code else}, a filter condition, {@code break} and
 * {@code continue}), {@code set} (also {@code namespace} attributes), the usual operators, string methods such as
 * {@code strip()}, common filters and tests, {@code raise_exception} and the whitespace rules of transformers
 * ({@code trim_blocks}, {@code lstrip_blocks}, {@code -} markers). Anything else is rejected with an
 * {@link UnsupportedTemplateException} that names the construct.
 */
public final class ChatTemplate {

    /** Jinja's undefined value: renders as nothing, is false, and is what a missing attribute or name gives. */
    static final Object UNDEFINED = new Object() {
        @Override public String toString() {
            return "Undefined";
        }
    };

    /** The template uses a Jinja construct this interpreter does not implement. */
    public static final class UnsupportedTemplateException extends ModelFormatException {
        public UnsupportedTemplateException(String construct) {
            super(construct);
        }
    }

    private final String source;
    private final List<Node> body;

    private ChatTemplate(String source, List<Node> body) {
        this.source = source;
        this.body = body;
    }

    /**
     * Parses a template.
     *
     * @throws UnsupportedTemplateException if the template uses a construct outside the supported subset
     */
    public static ChatTemplate parse(String source) {
        Objects.requireNonNull(source, "source");
        return new ChatTemplate(source, JinjaParser.parse(source));
    }

    /** The template text, as given. */
    public String source() {
        return source;
    }

    /**
     * Renders a conversation.
     *
     * @param specialTokens the values of {@code bos_token}, {@code eos_token}, ... the template may use
     * @throws InvalidRequestException if the template raises an exception (for example roles that do not alternate)
     * @throws UnsupportedTemplateException if rendering reaches an unsupported function, method or operation
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, String> specialTokens) {
        Map<String, Object> globals = new LinkedHashMap<>(specialTokens);
        List<Object> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m.role());
            msg.put("content", m.content());
            msgs.add(msg);
        }
        globals.put("messages", msgs);
        globals.put("add_generation_prompt", addGenerationPrompt);
        return new JinjaInterpreter(globals).render(body);
    }

    /**
     * ChatML, the format Arctic's instruct model uses: {@code <|im_start|>role\ncontent<|im_end|>\n} per message and
     * {@code <|im_start|>assistant\n} as the generation prompt.
     */
    public static String chatMl(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }
}
