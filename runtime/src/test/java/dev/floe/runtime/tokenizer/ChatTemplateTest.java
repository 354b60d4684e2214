package dev.floe.runtime.tokenizer;

import dev.floe.api.ChatMessage;
import dev.floe.api.ChatRequest;
import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat templates. The expected strings were worked out by hand from Jinja semantics and cross-checked with Jinja2 3.1
 * configured as transformers configures it (trim_blocks, lstrip_blocks, loopcontrols).
 */
class ChatTemplateTest {

    /** The chat template of meta-llama/Llama-2-7b-chat-hf, verbatim ({@code \\n} is Jinja's escape). */
    static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /** The ChatML template Arctic-instruct style models ship. */
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
            + "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** A multi-line template that depends on trim_blocks, lstrip_blocks, '-' markers, namespace and loop filters. */
    static final String MULTILINE = """
            {#- A template that leans on whitespace control -#}
            {%- set ns = namespace(count=0, system='') -%}
            {%- for message in messages -%}
                {%- if message.role == 'system' -%}
                    {%- set ns.system = message.content | trim -%}
                {%- else -%}
                    {%- set ns.count = ns.count + 1 -%}
                {%- endif -%}
            {%- endfor -%}
            {{ bos_token }}
            {% if ns.system %}
            System: {{ ns.system }}
            {% endif %}
            {% for message in messages if message.role != 'system' %}
                {% if loop.first %}[first {{ loop.index }}/{{ loop.length }}]{% endif %}
                {% if message['role'] == 'user' %}
            User: {{ message.content.strip() ~ '!' }}
                {% elif message['role'] == 'assistant' %}
            Assistant: {{ message.content }}{{ eos_token }}
                {% else %}
            {{ raise_exception('Unknown role: ' + message.role) }}
                {% endif %}
                {% if loop.last and add_generation_prompt %}
            Assistant:{% endif %}
            {% endfor %}
            turns={{ ns.count }} {{ messages | length }} {{ 'yes' if ns.count > 1 else 'no' }} \
            {{ messages[-1].role | upper }} {{ [1, 2, 3][::-1] | join(',') }}
            """;

    static final Map<String, String> TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>");

    static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "Be brief."),
            new ChatMessage("user", " Hi "),
            new ChatMessage("assistant", "Hello."),
            new ChatMessage("user", "Again"));

    @Test
    void llama2WithSystemPrompt() {
        String out = ChatTemplate.parse(LLAMA2).render(CONVERSATION, true, TOKENS);
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi [/INST] Hello. </s><s>[INST] Again [/INST]", out);
    }

    @Test
    void llama2WithoutSystemPrompt() {
        String out = ChatTemplate.parse(LLAMA2).render(List.of(new ChatMessage("user", "Hi")), false, TOKENS);
        assertEquals("<s>[INST] Hi [/INST]", out);
    }

    @Test
    void llama2RaisesOnRolesThatDoNotAlternate() {
        var twoUsers = List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b"));
        var e = assertThrows(InvalidRequestException.class, () -> ChatTemplate.parse(LLAMA2).render(twoUsers, false, TOKENS));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void chatMlTemplateMatchesBuiltInChatMl() {
        var msgs = List.of(new ChatMessage("system", "sys"), new ChatMessage("user", "hi"));
        for (boolean gen : new boolean[] {false, true}) {
            String rendered = ChatTemplate.parse(CHATML).render(msgs, gen, TOKENS);
            assertEquals(ChatTemplate.chatMl(msgs, gen), rendered);
        }
        assertEquals("<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.parse(CHATML).render(msgs, true, TOKENS));
    }

    @Test
    void whitespaceControlNamespacesAndFilters() {
        String full = ChatTemplate.parse(MULTILINE).render(List.of(
                new ChatMessage("system", "  Be brief. "), new ChatMessage("user", " Hi "),
                new ChatMessage("assistant", "Hello."), new ChatMessage("user", "Again")), true, TOKENS);
        assertEquals("<s>\nSystem: Be brief.\n[first 1/3]User: Hi!\nAssistant: Hello.</s>\nUser: Again!\n"
                + "Assistant:turns=3 4 yes USER 3,2,1", full);
        String single = ChatTemplate.parse(MULTILINE).render(List.of(new ChatMessage("user", "Hi")), false, TOKENS);
        assertEquals("<s>\n[first 1/1]User: Hi!\nturns=1 1 no USER 3,2,1", single);
    }

    @Test
    void expressionsFollowPythonSemantics() {
        String t = "{{ 7 // 2 }} {{ -7 % 3 }} {{ 1 + 2.5 }} {{ 'ab' * 2 }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }}"
                + " {{ none is none }} {{ x is defined }} {{ {'k': 'v'}['k'] }} {{ 'a,b'.split(',') }}"
                + " {{ messages[0].content[1:3] }} {{ true and 'x' or 'y' }} {{ ('%s' if false) }}|"
                + "{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}{{ m.role }}{% endfor %}";
        var msgs = List.of(new ChatMessage("user", "hello"), new ChatMessage("assistant", "x"));
        assertEquals("3 2 3.5 abab True True True False v ['a', 'b'] el x |user",
                ChatTemplate.parse(t).render(msgs, false, TOKENS));
    }

    @Test
    void filtersOverLists() {
        String t = "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }};"
                + "{{ messages | rejectattr('role', 'eq', 'user') | list | length }};{{ ['a', 'b'] | map('upper') | join }};"
                + "{{ messages | map(attribute='name', default='anon') | first }};{{ 'x\ny' | indent(2) }};"
                + "{{ {'a': 1} | tojson }};{{ [1, 'b', none, true] | tojson }};{{ '  \u00a0pad\u00a0 ' | trim }}|"
                + "{{ 5 is lt 6 }}";
        var msgs = List.of(new ChatMessage("user", "u1"), new ChatMessage("assistant", "a1"), new ChatMessage("user", "u2"));
        assertEquals("u1|u2;1;AB;anon;x\n  y;{\"a\": 1};[1, \"b\", null, true];pad|True",
                ChatTemplate.parse(t).render(msgs, false, TOKENS));
    }

    @Test
    void strftimeNow() {
        String year = String.valueOf(java.time.LocalDate.now().getYear());
        String out = ChatTemplate.parse("{{ strftime_now('%Y') }}|{{ strftime_now('%d %b %Y') | length }}")
                .render(List.of(), false, TOKENS);
        assertEquals(year + "|11", out); // "28 Nov 2026"
    }

    @Test
    void templateFromChatTemplateJinjaFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), TinyLlama.json());
        Files.writeString(dir.resolve("chat_template.jinja"), QWEN + "\n");
        HfTokenizer t = HfTokenizer.load(dir);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                + "<|im_start|>assistant\n", t.applyChatTemplate(List.of(new ChatMessage("user", "hi")), true));
    }

    /** Qwen1.5's ChatML template with a default system message. */
    static final String QWEN = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @Test
    void unsupportedConstructsAreNamedWithTheirLine() {
        var include = assertThrows(ChatTemplate.UnsupportedTemplateException.class,
                () -> ChatTemplate.parse("{{ bos_token }}\n{% include 'header.jinja' %}"));
        assertTrue(include.getMessage().contains("{% include %}") && include.getMessage().contains("line 2"),
                include.getMessage());
        // Jinja2 has no from_json filter either: transformers fails on it when it compiles the template
        var filter = assertThrows(ChatTemplate.UnsupportedTemplateException.class,
                () -> ChatTemplate.parse("{% for m in messages %}\n{{ m.content | from_json }}{% endfor %}"));
        assertTrue(filter.getMessage().contains("'from_json'") && filter.getMessage().contains("line 2"), filter.getMessage());
        var unclosed = assertThrows(ChatTemplate.UnsupportedTemplateException.class,
                () -> ChatTemplate.parse("{% if true %}x"));
        assertTrue(unclosed.getMessage().contains("endif"), unclosed.getMessage());
        // A Jinja2 filter Floe does not implement fails when a render reaches it, by name and line
        ChatTemplate groupby = ChatTemplate.parse("x\n{{ messages | groupby('role') }}");
        var e = assertThrows(ChatTemplate.UnsupportedTemplateException.class,
                () -> groupby.render(List.of(new ChatMessage("user", "hi")), false, TOKENS));
        assertTrue(e.getMessage().contains("groupby") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void tokenizerUsesTheConfiguredTemplate(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path model = GoldenTokenizerTest.MODEL;
        Files.copy(model.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        String config = "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}, \"chat_template\": "
                + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(LLAMA2) + "}";
        Files.writeString(dir.resolve("tokenizer_config.json"), config);
        HfTokenizer t = HfTokenizer.load(dir);
        assertEquals(LLAMA2, t.chatTemplate().orElseThrow());
        String prompt = t.applyChatTemplate(List.of(new ChatMessage("user", "Hi")), true);
        assertEquals("<s>[INST] Hi [/INST]", prompt);
        // The rendered prompt already holds <s>: encoding it without special tokens gives exactly one BOS.
        int[] ids = t.encode(prompt, false);
        assertEquals(1, ids[0]);
        assertEquals(1, java.util.Arrays.stream(ids).filter(id -> id == 1).count());
    }

    @Test
    void chatMlOnlyWithoutATemplateOrWhenAskedFor() {
        var msgs = List.of(new ChatMessage("user", "hi"));
        // The built-in model has no chat_template: ChatML, the format of Arctic's instruct model.
        HfTokenizer builtIn = HfTokenizer.load(GoldenTokenizerTest.MODEL);
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", builtIn.applyChatTemplate(msgs, true));
        assertTrue(builtIn.chatTemplateProblem().isEmpty());
        // A template Floe cannot render is an error naming the construct and line, not a silent ChatML prompt
        HfTokenizer unsupported = HfTokenizer.fromJson(TinyLlama.json(),
                "{\"chat_template\": \"{{ bos_token }}\\n{% import 'm.jinja' as m %}\"}", "tiny/tokenizer.json");
        assertTrue(unsupported.chatTemplate().isPresent());
        assertTrue(unsupported.chatTemplateProblem().orElseThrow().contains("{% import %}"),
                unsupported.chatTemplateProblem().toString());
        var e = assertThrows(ChatTemplate.UnsupportedTemplateException.class, () -> unsupported.applyChatTemplate(msgs, false));
        assertTrue(e.getMessage().contains("{% import %}") && e.getMessage().contains("line 2"), e.getMessage());
        // ... unless the caller asks for ChatML
        assertEquals(ChatTemplate.chatMl(msgs, false), unsupported.applyChatTemplate(
                ChatRequest.of(msgs).withGenerationPrompt(false).withChatMlFallback(true)));
    }

    @Test
    void toolsReachTheTemplateAsTransformersPassesThem() {
        ChatTemplate t = ChatTemplate.parse("{{ tools | tojson }}|{% for m in messages %}{{ m | tojson }};{% endfor %}");
        var call = new ChatMessage.ToolCall("call_1", "get_weather", "{\"city\": \"Paris\", \"days\": 2}");
        var msgs = List.of(new ChatMessage("user", "Weather?"), ChatMessage.assistantToolCalls(null, List.of(call)),
                ChatMessage.toolResult("call_1", "get_weather", "sunny"));
        Map<String, Object> tool = Map.of("type", "function");
        assertEquals("[{\"type\": \"function\"}]|{\"role\": \"user\", \"content\": \"Weather?\"};"
                + "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_1\", \"type\": \"function\", "
                + "\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}}]};"
                + "{\"role\": \"tool\", \"content\": \"sunny\", \"tool_call_id\": \"call_1\", \"name\": \"get_weather\"};",
                t.render(msgs, List.of(tool), false, Map.of()));
        // Without tools the template sees none, as with transformers' tools=None
        assertEquals("None|", ChatTemplate.parse("{{ tools }}|").render(List.of(), false, TOKENS));
        var twice = assertThrows(InvalidRequestException.class, () -> t.render(msgs, List.of(), false, Map.of("tools", List.of())));
        assertTrue(twice.getMessage().contains("'tools'"), twice.getMessage());
        var bad = List.of(ChatMessage.assistantToolCalls(null, List.of(new ChatMessage.ToolCall("c", "f", "{oops"))));
        var e = assertThrows(InvalidRequestException.class, () -> t.render(bad, List.of(), false, Map.of()));
        assertTrue(e.getMessage().contains("messages[0]") && e.getMessage().contains("'f'"), e.getMessage());
    }
}
