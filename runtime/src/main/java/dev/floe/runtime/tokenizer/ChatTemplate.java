package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import dev.floe.runtime.tokenizer.jinja.Template;
import dev.floe.runtime.tokenizer.jinja.TemplateException;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's chat template ({@code chat_template} of {@code tokenizer_config.json}, or {@code chat_template.jinja}),
 * rendered as transformers' {@code apply_chat_template} renders it: the Jinja engine of
 * {@link dev.floe.runtime.tokenizer.jinja} with the variables {@code messages}, {@code tools} (none when there are
 * none), {@code documents} (none), {@code add_generation_prompt}, the special tokens ({@code bos_token},
 * {@code eos_token}, ...) and any extra variables.
 *
 * <p>Messages reach the template as dicts: {@code role}, {@code content}, then {@code tool_calls} (each
 * {@code {"id", "type": "function", "function": {"name", "arguments"}}} with the arguments parsed into a dict, as
 * transformers documents them), {@code tool_call_id} and {@code name} where the message has them.
 */
public final class ChatTemplate {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The template uses a Jinja construct Floe does not implement, or one Jinja2 rejects too; the message names the
     * construct and the template line.
     */
    public static final class UnsupportedTemplateException extends ModelFormatException {
        public UnsupportedTemplateException(String construct) {
            super(construct);
        }
    }

    private final String source;
    private final Template template;
    private final Clock clock;

    private ChatTemplate(String source, Template template, Clock clock) {
        this.source = source;
        this.template = template;
        this.clock = clock;
    }

    /**
     * Parses a template.
     *
     * @throws UnsupportedTemplateException if the template uses a construct Floe does not implement
     */
    public static ChatTemplate parse(String source) {
        Objects.requireNonNull(source, "source");
        try {
            return new ChatTemplate(source, Template.parse(source), Clock.systemDefaultZone());
        } catch (TemplateException e) {
            throw new UnsupportedTemplateException("chat template: " + e.getMessage());
        }
    }

    /** The same template with {@code strftime_now} reading {@code clock} (for reproducible prompts and tests). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, template, Objects.requireNonNull(clock, "clock"));
    }

    /** The template text, as given. */
    public String source() {
        return source;
    }

    /**
     * Renders a conversation without tools.
     *
     * @param specialTokens the values of {@code bos_token}, {@code eos_token}, ... the template may use
     * @throws InvalidRequestException if the template refuses the conversation
     * @throws UnsupportedTemplateException if rendering reaches something Floe does not implement
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, String> specialTokens) {
        return render(messages, List.of(), addGenerationPrompt, specialTokens);
    }

    /**
     * Renders a conversation with tools, as {@code tokenizer.apply_chat_template(messages, tools=tools,
     * add_generation_prompt=..., **variables)} does.
     *
     * @param tools     tool definitions as JSON values (Map, List, String, numbers, Boolean, null); empty means none
     * @param variables the special tokens and any extra template variables (such as {@code enable_thinking})
     * @throws InvalidRequestException if the template refuses the conversation or a tool call's arguments are not JSON
     * @throws UnsupportedTemplateException if rendering reaches something Floe does not implement
     */
    public String render(List<ChatMessage> messages, List<? extends Map<String, ?>> tools, boolean addGenerationPrompt,
                         Map<String, ?> variables) {
        List<Map<String, Object>> dicts = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            dicts.add(messageDict(messages.get(i), i));
        }
        return renderDicts(dicts, tools, addGenerationPrompt, variables);
    }

    /**
     * Renders messages that are already JSON-shaped dicts (for example the {@code messages} of an OpenAI request body,
     * with content parts), passed to the template unchanged.
     */
    public String renderDicts(List<? extends Map<String, ?>> messages, List<? extends Map<String, ?>> tools,
                              boolean addGenerationPrompt, Map<String, ?> variables) {
        for (String reserved : List.of("messages", "tools", "documents", "add_generation_prompt")) {
            if (variables.containsKey(reserved)) { // transformers fails the same way: a keyword given twice
                throw new InvalidRequestException("chat template variables: '" + reserved + "' is set by the request itself");
            }
        }
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", messages);
        vars.put("tools", tools == null || tools.isEmpty() ? null : tools);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.putAll(variables);
        try {
            return template.render(vars, clock);
        } catch (TemplateException.Raised e) {
            throw new InvalidRequestException("chat template: " + e.templateMessage());
        } catch (TemplateException.Failed e) {
            throw new InvalidRequestException("chat template cannot render this conversation: " + e.getMessage());
        } catch (TemplateException.Unsupported e) {
            throw new UnsupportedTemplateException("chat template: " + e.getMessage());
        }
    }

    /** A message as transformers passes it to a template. */
    static Map<String, Object> messageDict(ChatMessage m, int index) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("role", m.role());
        msg.put("content", m.content());
        if (!m.toolCalls().isEmpty()) {
            List<Object> calls = new ArrayList<>();
            for (ChatMessage.ToolCall c : m.toolCalls()) {
                Map<String, Object> call = new LinkedHashMap<>();
                if (c.id() != null) {
                    call.put("id", c.id());
                }
                call.put("type", "function");
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", c.name());
                function.put("arguments", arguments(c, index));
                call.put("function", function);
                calls.add(call);
            }
            msg.put("tool_calls", calls);
        }
        if (m.toolCallId() != null) {
            msg.put("tool_call_id", m.toolCallId());
        }
        if (m.name() != null) {
            msg.put("name", m.name());
        }
        return msg;
    }

    private static Object arguments(ChatMessage.ToolCall call, int index) {
        try {
            return plain(JSON.readTree(call.arguments()));
        } catch (IOException e) {
            throw new InvalidRequestException("messages[" + index + "]: the arguments of tool call '" + call.name()
                    + "' are not JSON: " + call.arguments());
        }
    }

    /** A JSON tree as plain Java values, object keys in order. */
    static Object plain(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                m.put(e.getKey(), plain(e.getValue()));
            }
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(x -> l.add(plain(x)));
            return l;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToLong() ? (Object) n.longValue() : (Object) n.doubleValue();
        }
        return n.doubleValue();
    }

    /**
     * ChatML, the format Arctic's instruct model uses: {@code <|im_start|>role\ncontent<|im_end|>\n} per message and
     * {@code <|im_start|>assistant\n} as the generation prompt.
     */
    public static String chatMl(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content() == null ? "" : m.content())
                    .append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }
}
