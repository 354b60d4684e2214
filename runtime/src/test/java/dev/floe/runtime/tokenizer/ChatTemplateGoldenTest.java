package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.tokenizer.jinja.Template;
import dev.floe.runtime.tokenizer.jinja.TemplateException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real chat templates (chat-templates/*.jinja, sources in sources.json) rendered for every conversation of
 * conversations.json, with and without the generation prompt, against what Jinja2 renders in transformers'
 * environment (goldens.json, written by runtime/src/test/python/chat_template_goldens.py). Conversations go through
 * the API's {@link ChatMessage} (tool calls and tool results included) so the message dicts are checked too. Where
 * Jinja2 fails (a template that refuses a conversation, or that adds None to a string), Floe must refuse as well.
 */
class ChatTemplateGoldenTest {

    static final Path DIR = Path.of(System.getProperty("floe.root"), "runtime", "src", "test", "resources", "chat-templates");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> rendersAsJinja2InTransformers() throws IOException {
        JsonNode goldens = JSON.readTree(DIR.resolve("goldens.json").toFile());
        Map<String, JsonNode> conversations = new HashMap<>();
        JSON.readTree(DIR.resolve("conversations.json").toFile()).forEach(c -> conversations.put(c.get("name").textValue(), c));
        Clock clock = Clock.fixed(LocalDateTime.parse(goldens.get("now").textValue()).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        Map<String, Object> specialTokens = new LinkedHashMap<>();
        goldens.get("special_tokens").properties().forEach(e -> specialTokens.put(e.getKey(), e.getValue().textValue()));
        Map<String, ChatTemplate> templates = new HashMap<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : goldens.get("cases")) {
            String name = c.get("template").textValue();
            JsonNode conv = conversations.get(c.get("conversation").textValue());
            boolean gen = c.get("add_generation_prompt").booleanValue();
            tests.add(DynamicTest.dynamicTest(name + " / " + conv.get("name").textValue() + (gen ? " + generation prompt" : ""), () -> {
                ChatTemplate t = templates.computeIfAbsent(name, n -> parse(n).withClock(clock));
                List<ChatMessage> messages = messages(conv.get("messages"));
                List<Map<String, Object>> tools = tools(conv.get("tools"));
                Map<String, Object> variables = new LinkedHashMap<>(specialTokens);
                if (conv.has("variables")) {
                    conv.get("variables").properties().forEach(e -> variables.put(e.getKey(), ChatTemplate.plain(e.getValue())));
                }
                if (c.has("output")) {
                    assertEquals(c.get("output").textValue(), t.render(messages, tools, gen, variables));
                } else {
                    String error = c.get("error").textValue();
                    var e = assertThrows(InvalidRequestException.class, () -> t.render(messages, tools, gen, variables),
                            "Jinja2 fails with " + error);
                    if (error.startsWith("TemplateError: ")) { // raise_exception: the template's own message
                        assertTrue(e.getMessage().contains(error.substring("TemplateError: ".length())), e.getMessage());
                    }
                }
            }));
        }
        assertTrue(tests.size() >= 1000, "cases: " + tests.size());
        return tests.stream();
    }

    /** One Jinja construct per snippet (features.json), against Jinja2 in transformers' environment. */
    @TestFactory
    Stream<DynamicTest> featuresRenderAsJinja2() throws IOException {
        JsonNode goldens = JSON.readTree(DIR.resolve("goldens.json").toFile());
        Clock clock = Clock.fixed(LocalDateTime.parse(goldens.get("now").textValue()).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        Map<String, JsonNode> expected = new HashMap<>();
        goldens.get("features").forEach(f -> expected.put(f.get("name").textValue(), f));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode f : JSON.readTree(DIR.resolve("features.json").toFile())) {
            String name = f.get("name").textValue();
            JsonNode golden = expected.get(name);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> variables = (Map<String, Object>) ChatTemplate.plain(f.get("variables"));
                Template t = Template.parse(f.get("template").textValue());
                if (golden.has("output")) {
                    assertEquals(golden.get("output").textValue(), t.render(variables, clock));
                } else {
                    String error = golden.get("error").textValue();
                    var e = assertThrows(TemplateException.class, () -> t.render(variables, clock), "Jinja2 fails with " + error);
                    if (error.startsWith("TemplateError: ")) {
                        assertTrue(e instanceof TemplateException.Raised r
                                && r.templateMessage().equals(error.substring("TemplateError: ".length())), e.getMessage());
                    } else {
                        assertTrue(e instanceof TemplateException.Failed, e.toString());
                    }
                }
            }));
        }
        assertTrue(tests.size() >= 50, "features: " + tests.size());
        return tests.stream();
    }

    @Test
    void everyTemplateHasItsSourceAndGoldens() throws IOException {
        JsonNode sources = JSON.readTree(DIR.resolve("sources.json").toFile());
        JsonNode goldens = JSON.readTree(DIR.resolve("goldens.json").toFile());
        List<String> names;
        try (Stream<Path> files = Files.list(DIR)) {
            names = files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".jinja"))
                    .map(f -> f.substring(0, f.length() - ".jinja".length())).sorted().toList();
        }
        assertTrue(names.size() >= 100, "templates: " + names.size());
        for (String n : names) {
            assertTrue(sources.has(n) && !sources.get(n).get("source").textValue().isBlank(), n + " has no recorded source");
            boolean rendered = false;
            for (JsonNode c : goldens.get("cases")) {
                rendered |= c.get("template").textValue().equals(n);
            }
            assertTrue(rendered, n + " has no goldens: run runtime/src/test/python/chat_template_goldens.py");
        }
    }

    static ChatTemplate parse(String name) {
        try {
            return ChatTemplate.parse(Files.readString(DIR.resolve(name + ".jinja")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** OpenAI-style message JSON to the API's messages (tool call arguments travel as JSON text). */
    static List<ChatMessage> messages(JsonNode json) throws IOException {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : json) {
            List<ChatMessage.ToolCall> calls = new ArrayList<>();
            if (m.has("tool_calls")) {
                for (JsonNode c : m.get("tool_calls")) {
                    JsonNode f = c.get("function");
                    calls.add(new ChatMessage.ToolCall(c.path("id").textValue(), f.get("name").textValue(),
                            JSON.writeValueAsString(f.get("arguments"))));
                }
            }
            out.add(new ChatMessage(m.get("role").textValue(), m.get("content").textValue(), calls,
                    m.path("tool_call_id").textValue(), m.path("name").textValue()));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> tools(JsonNode json) {
        if (json == null) {
            return List.of();
        }
        return (List<Map<String, Object>>) ChatTemplate.plain(json);
    }
}
