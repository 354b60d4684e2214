package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.ChatRequest;
import dev.floe.api.Tokenizer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat messages, tools, {@code tool_choice} and {@code response_format} as parsed before the chat template runs. The
 * tokenizer is a stand-in whose "template" writes out what reached it, so each check sees the parsed messages.
 */
class ChatInputTest {
    private static final String TOOLS = """
            [{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
              "properties":{"city":{"type":"string"}},"required":["city"]}}},
             {"type":"function","function":{"name":"get_time"}}]""";

    /**
     * A tokenizer whose chat template renders {@code role:content[calls](id)} per message and the tool names (a
     * content "boom" makes it fail) and whose {@code chatTemplate()} is {@code template}; its default methods keep
     * their meaning and every other method is unsupported.
     */
    private static Tokenizer echoTemplate(String template) {
        return (Tokenizer) Proxy.newProxyInstance(Tokenizer.class.getClassLoader(), new Class<?>[]{Tokenizer.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "applyChatTemplate" -> {
                        if (!(args[0] instanceof ChatRequest r)) throw new AssertionError("ChatInput passes a ChatRequest");
                        yield render(r);
                    }
                    case "chatTemplate" -> Optional.ofNullable(template);
                    default -> {
                        if (method.isDefault()) yield InvocationHandler.invokeDefault(proxy, method, args);
                        throw new UnsupportedOperationException(method.getName());
                    }
                });
    }

    private static String render(ChatRequest r) {
        String messages = r.messages().stream().map(m -> {
            if ("boom".equals(m.content())) throw new IllegalStateException("template raised an exception");
            return m.role() + ":" + m.content() + m.toolCalls().stream().map(c -> c.id() + "=" + c.name() + c.arguments())
                    .collect(Collectors.joining(",", "[", "]")) + "(" + m.toolCallId() + "," + m.name() + ")";
        }).collect(Collectors.joining("|"));
        return messages + " tools=" + r.tools().stream().map(t -> String.valueOf(((java.util.Map<?, ?>) t.get("function")).get("name")))
                .toList() + (r.addGenerationPrompt() ? " >" : "");
    }

    private static final Tokenizer HERMES = echoTemplate("{{ '<tool_call>' }}");
    private static final Tokenizer PLAIN = echoTemplate(null);

    private static ChatInput parse(Tokenizer tokenizer, String body) {
        try {
            return ChatInput.parse(JSON.readTree(body), tokenizer, true);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(body, e);
        }
    }

    private static String prompt(String messages) {
        return parse(PLAIN, "{\"messages\":" + messages + "}").prompt();
    }

    private static ApiError rejected(Tokenizer tokenizer, String body, String param) {
        ApiError e = assertThrows(ApiError.class, () -> parse(tokenizer, body), body);
        assertEquals(400, e.status);
        assertEquals(param, e.param, body + ": " + e.getMessage());
        return e;
    }

    private static ApiError badMessages(String messages) {
        return rejected(PLAIN, "{\"messages\":" + messages + "}", "messages");
    }

    @Test
    void messagesReachTheTemplate() {
        assertEquals("system:be brief[](null,null)|user:hi[](null,bob) tools=[] >",
                prompt("[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\",\"name\":\"bob\"}]"));
        assertEquals("user:ab[](null,null) tools=[] >",
                prompt("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}]"));
        assertEquals("user:[](null,null) tools=[] >", prompt("[{\"role\":\"user\",\"content\":[]}]"));
        assertEquals("assistant:null[c1=f{}](null,null)|tool:sunny[](c1,null) tools=[] >", prompt("""
                [{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                 {"role":"tool","content":"sunny","tool_call_id":"c1"}]"""));
        assertEquals("assistant:[null=f{}](null,null) tools=[] >", prompt("""
                [{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]"""));
        assertEquals("user:x[](null,null) tools=[]", ChatInput.parse(node("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":null}]}"),
                PLAIN, false).prompt());
    }

    @Test
    void malformedMessagesAreRejected() {
        badMessages("[]");
        badMessages("{}");
        badMessages("\"hi\"");
        rejected(PLAIN, "{}", "messages");
        assertTrue(badMessages("[{\"content\":\"x\"}]").getMessage().contains("messages[0].role"));
        badMessages("[\"x\"]");
        badMessages("[{\"role\":1,\"content\":\"x\"}]");
        assertTrue(badMessages("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"x\",\"weight\":1}]").getMessage()
                .contains("messages[1].weight"));
        badMessages("[{\"role\":\"user\"}]");
        badMessages("[{\"role\":\"user\",\"content\":null}]");
        badMessages("[{\"role\":\"user\",\"content\":5}]");
        badMessages("[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"text\":\"x\"}]}]");
        badMessages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]");
        badMessages("[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]");
        assertTrue(badMessages("[{\"role\":\"tool\",\"content\":\"x\"}]").getMessage().contains("tool_call_id"));
        badMessages("[{\"role\":\"tool\",\"content\":\"x\",\"tool_call_id\":5}]");
        badMessages("[{\"role\":\"user\",\"content\":\"x\",\"name\":5}]");
        String call = "[{\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]";
        assertTrue(badMessages("[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":" + call + "}]").getMessage().contains("only an assistant"));
        badMessages("[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":{}}]");
        badMessages("[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[\"f\"]}]");
        badMessages("[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\"}]}]");
        badMessages("[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}]");
        badMessages("[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]");
        assertTrue(badMessages("[{\"role\":\"user\",\"content\":\"boom\"}]").getMessage().contains("template raised"));
    }

    @Test
    void toolsAreFunctionsWithNamesAndSchemaObjects() {
        ChatInput in = parse(HERMES, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + TOOLS + "}");
        assertTrue(in.prompt().endsWith("tools=[get_weather, get_time] >"), in.prompt());
        assertEquals(ToolCallFormat.HERMES, in.toolFormat());
        assertNull(in.grammar(), "auto: the model may answer in text");
        String msg = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":";
        rejected(HERMES, msg + "{}}", "tools");
        assertTrue(rejected(HERMES, msg + "[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]}", "tools").getMessage().contains("tools[0]"));
        rejected(HERMES, msg + "[{\"type\":\"code\",\"function\":{\"name\":\"f\"}}]}", "tools");
        rejected(HERMES, msg + "[{\"type\":\"function\"}]}", "tools");
        rejected(HERMES, msg + "[{\"type\":\"function\",\"function\":{\"name\":3}}]}", "tools");
        rejected(HERMES, msg + "[\"f\"]}", "tools");
        assertTrue(rejected(HERMES, msg + "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]}", "tools")
                .getMessage().contains("tools[0].function.parameters"));
        assertEquals("unsupported_parameter", rejected(PLAIN, msg + TOOLS + "}", "tools").code, "a template without tool calls");
        ChatInput none = parse(PLAIN, msg + TOOLS + ",\"tool_choice\":\"none\"}");
        assertNull(none.toolFormat());
        assertTrue(none.prompt().endsWith("tools=[] >"), "tool_choice none offers no tools: " + none.prompt());
    }

    @Test
    void toolChoiceConstrainsTheOutput() {
        String msg = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + TOOLS;
        assertNotNull(parse(HERMES, msg + ",\"tool_choice\":\"required\"}").grammar());
        assertNull(parse(HERMES, msg + ",\"tool_choice\":\"auto\"}").grammar());
        List<JsonNode> tools = ChatInput.tools(node(TOOLS));
        // grammars compared by their printed structure (the recursive JSON-object rule has no structural equals)
        assertEquals(ToolCallFormat.HERMES.grammar(tools).toString(), parse(HERMES, msg + ",\"tool_choice\":\"required\"}").grammar().toString(),
                "required: a call of any of the tools");
        assertEquals(ToolCallFormat.HERMES.grammar(List.of(tools.get(1))).toString(),
                parse(HERMES, msg + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}}").grammar().toString(),
                "a named function: a call of that one only");
        assertTrue(rejected(HERMES, msg + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_date\"}}}", "tool_choice")
                .getMessage().contains("'get_date'"));
        rejected(HERMES, msg + ",\"tool_choice\":{\"type\":\"tool\",\"function\":{\"name\":\"get_time\"}}}", "tool_choice");
        rejected(HERMES, msg + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":1}}}", "tool_choice");
        rejected(HERMES, msg + ",\"tool_choice\":\"always\"}", "tool_choice");
        rejected(HERMES, msg + ",\"tool_choice\":1}", "tool_choice");
        rejected(HERMES, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"auto\"}", "tool_choice");
        assertTrue(rejected(HERMES, msg + ",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"json_object\"}}",
                "response_format").getMessage().contains("cannot both"));
    }

    @Test
    void responseFormatSelectsAGrammar() {
        String msg = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":";
        assertNull(parse(PLAIN, msg + "{\"type\":\"text\"}}").grammar());
        assertNull(parse(PLAIN, msg + "null}").grammar());
        assertNotNull(parse(PLAIN, msg + "{\"type\":\"json_object\"}}").grammar());
        assertNotNull(parse(PLAIN, msg + "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\"}}}}").grammar());
        rejected(PLAIN, msg + "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":true}}}", "response_format");
        rejected(PLAIN, msg + "{\"type\":\"json_schema\"}}", "response_format");
        assertTrue(rejected(PLAIN, msg + "{\"type\":\"yaml\"}}", "response_format").getMessage().contains("'yaml'"));
        rejected(PLAIN, msg + "{}}", "response_format");
        assertEquals("unsupported_parameter",
                rejected(PLAIN, msg + "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\",\"patternProperties\":{}}}}}",
                        "response_format").code);
    }

    private static JsonNode node(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(json, e);
        }
    }
}
