package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real-world style chat templates (Zephyr, Mistral, Gemma, Llama-3, Phi-3, a namespace-heavy ChatML one and a
 * whitespace torture test) rendered by this interpreter against the outputs of Jinja2 itself, configured as
 * transformers configures it (jinja/jinja-golden.json, generated with Jinja2 3.1.6).
 */
class JinjaGoldenTest {

    @TestFactory
    Stream<DynamicTest> matchesJinja2() throws IOException {
        Path file = Path.of(System.getProperty("floe.root"), "runtime", "src", "test", "resources", "jinja", "jinja-golden.json");
        JsonNode doc = new ObjectMapper().readTree(file.toFile());
        List<List<ChatMessage>> conversations = new ArrayList<>();
        for (JsonNode conv : doc.get("conversations")) {
            List<ChatMessage> msgs = new ArrayList<>();
            conv.forEach(m -> msgs.add(new ChatMessage(m.get("role").textValue(), m.get("content").textValue())));
            conversations.add(msgs);
        }
        Map<String, String> tokens = Map.of("bos_token", "<s>", "eos_token", "</s>");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            String name = c.get("template").textValue();
            ChatTemplate template = ChatTemplate.parse(doc.get("templates").get(name).textValue());
            List<ChatMessage> msgs = conversations.get(c.get("conversation").intValue());
            boolean gen = c.get("add_generation_prompt").booleanValue();
            tests.add(DynamicTest.dynamicTest(name + " conversation " + c.get("conversation") + " gen=" + gen, () -> {
                if (c.get("error").isNull()) {
                    assertEquals(c.get("output").textValue(), template.render(msgs, gen, tokens));
                } else {
                    var e = assertThrows(InvalidRequestException.class, () -> template.render(msgs, gen, tokens));
                    assertTrue(e.getMessage().contains(c.get("error").textValue()), e.getMessage());
                }
            }));
        }
        assertTrue(tests.size() >= 40);
        return tests.stream();
    }
}
