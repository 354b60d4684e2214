package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ChatMessage;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.grammar.GrammarMatcher;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.floe.cli.serve.OpenAiParametersTest.events;
import static dev.floe.cli.serve.OpenAiParametersTest.ok;
import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static dev.floe.cli.serve.OpenAiServerTest.assertError;
import static dev.floe.cli.serve.OpenAiServerTest.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tools reach the chat template and calls come back as {@code tool_calls}; {@code response_format} JSON is enforced
 * by constrained decoding. The built-in model has no chat template (ChatML, no tools); a copy of it with Qwen 2.5's
 * template (Hermes-style {@code <tool_call>}) stands in for a tool-calling model.
 */
class ToolsAndJsonOutputTest {
    static final Path ROOT = Path.of(System.getProperty("floe.root"));
    static final String TOOLS = """
            [{"type":"function","function":{"name":"get_weather","description":"Weather forecast for a city",
              "parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":20},"days":{"type":"integer"},
              "unit":{"enum":["C","F"]}},"required":["city","days","unit"]}}},
             {"type":"function","function":{"name":"ping","description":"Checks the line"}}]""";
    static final String SCHEMA = """
            {"type":"object","properties":{"title":{"type":"string","maxLength":30},"year":{"type":"integer"},
             "genres":{"type":"array","items":{"type":"string","maxLength":10},"minItems":1,"maxItems":3},
             "rating":{"type":["number","null"]},"seen":{"type":"boolean"}},"required":["title","year","genres","rating","seen"]}""";

    @TempDir
    static Path qwenDir;
    static FloeModel plainModel, qwenModel;
    static ServingEngine plainEngine, qwenEngine;
    static OpenAiServer plain, qwen;

    @BeforeAll
    static void start() throws Exception {
        Path builtIn = ROOT.resolve("models/arctic-tiny-code");
        withQwenTemplate(builtIn, qwenDir);
        plainModel = FloeEngine.load(builtIn, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        plainEngine = new ServingEngine(plainModel, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
        plain = new OpenAiServer(plainEngine, "arctic-tiny-code", "127.0.0.1", 0, null);
        qwenModel = FloeEngine.load(qwenDir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
        qwenEngine = new ServingEngine(qwenModel, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
        qwen = new OpenAiServer(qwenEngine, "tiny-qwen", "127.0.0.1", 0, null);
    }

    /** Copies the built-in model into {@code dir} with Qwen 2.5's chat template, which defines Hermes-style tool calls. */
    static void withQwenTemplate(Path builtIn, Path dir) throws java.io.IOException {
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(builtIn.resolve(f), dir.resolve(f));
        }
        ObjectNode config = (ObjectNode) JSON.readTree(builtIn.resolve("tokenizer_config.json").toFile());
        config.put("chat_template", Files.readString(ROOT.resolve("runtime/src/test/resources/chat-templates/qwen2.5-0.5b.jinja")));
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(config));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{qwen, qwenEngine, qwenModel, plain, plainEngine, plainModel}) {
            try {
                if (c != null) c.close();
            } catch (Exception ignored) {
                // closing the rest matters more
            }
        }
    }

    @Test
    void toolsAndToolMessagesReachTheTemplate() throws Exception {
        String messages = """
                [{"role":"user","content":"Weather in Oslo?"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\",\\"days\\":2,\\"unit\\":\\"C\\"}"}}]},
                 {"role":"tool","tool_call_id":"call_1","content":"sunny, 21 degrees"}]""";
        JsonNode tokens = ok(post(qwen, "/tokenize", "{\"messages\":" + messages + ",\"tools\":" + TOOLS + "}"));
        String prompt = ok(post(qwen, "/detokenize", "{\"tokens\":" + tokens.get("tokens") + "}")).get("prompt").asText();
        assertTrue(prompt.contains("<tools>") && prompt.contains("Weather forecast for a city") && prompt.contains("\"name\": \"ping\""), prompt);
        assertTrue(prompt.contains("<tool_call>") && prompt.contains("\"Oslo\""), "the assistant's call is rendered: " + prompt);
        assertTrue(prompt.contains("<tool_response>\nsunny, 21 degrees\n</tool_response>"), "the tool's result is rendered: " + prompt);
        assertError(post(plain, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + TOOLS + "}"), 400, "tools");
        assertError(post(qwen, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}"), 400, "tool_choice");
        assertError(post(qwen, "/v1/chat/completions", "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}"), 400, "messages");
    }

    /** A required call, sampled on many seeds: always a call of a listed tool whose arguments fit its parameters. */
    @Test
    void aRequiredToolCallIsParsedIntoToolCalls() throws Exception {
        for (int seed = 0; seed < 8; seed++) {
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}],\"tools\":" + TOOLS
                    + ",\"tool_choice\":\"required\",\"temperature\":1,\"seed\":" + seed + ",\"max_tokens\":120";
            JsonNode choice = ok(post(qwen, "/v1/chat/completions", body + "}")).at("/choices/0");
            assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
            JsonNode call = choice.at("/message/tool_calls/0");
            assertTrue(call.get("id").asText().startsWith("call_"));
            assertEquals("function", call.get("type").asText());
            String name = call.at("/function/name").asText();
            JsonNode args = JSON.readTree(call.at("/function/arguments").asText());
            if (name.equals("get_weather")) {
                assertTrue(args.get("city").isTextual() && args.get("city").asText().length() <= 20, args.toString());
                assertTrue(args.get("days").isIntegralNumber(), args.toString());
                assertTrue(List.of("C", "F").contains(args.get("unit").asText()), args.toString());
            } else {
                assertEquals("ping", name);
                assertTrue(args.isObject(), args.toString());
            }
            // streamed as OpenAI does: the call's id, type and name first, then its arguments in fragments as they are generated
            List<JsonNode> chunks = events(post(qwen, "/v1/chat/completions", body + ",\"stream\":true}"));
            List<JsonNode> callDeltas = new ArrayList<>();
            for (JsonNode c : chunks) {
                JsonNode delta = c.at("/choices/0/delta");
                assertFalse(delta.path("content").asText().contains("<tool_call"), "the call's marker is not content: " + delta);
                if (delta.has("tool_calls")) callDeltas.add(delta.at("/tool_calls/0"));
            }
            JsonNode first = callDeltas.getFirst();
            assertTrue(first.get("id").asText().startsWith("call_") && first.get("type").asText().equals("function"), first.toString());
            assertEquals(name, first.at("/function/name").asText());
            StringBuilder streamedArgs = new StringBuilder();
            for (JsonNode d : callDeltas) {
                assertEquals(0, d.get("index").asInt());
                if (d != first) assertFalse(d.has("id") || d.at("/function").has("name"), "only the first delta names the call: " + d);
                streamedArgs.append(d.at("/function/arguments").asText());
            }
            if (name.equals("get_weather")) assertTrue(callDeltas.size() >= 5, "the arguments stream in fragments: " + callDeltas);
            assertEquals(args, JSON.readTree(streamedArgs.toString()), "same seed, same call");
            assertEquals("tool_calls", chunks.getLast().at("/choices/0/finish_reason").asText());
        }
        JsonNode named = ok(post(qwen, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"ping\"}},\"max_tokens\":60}"));
        assertEquals("ping", named.at("/choices/0/message/tool_calls/0/function/name").asText());
        assertTrue(named.at("/choices/0/message/content").isNull());
    }

    @Test
    void jsonSchemaOutputParsesAndValidatesOnManySeeds() throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA);
        for (int seed = 0; seed < 16; seed++) {
            JsonNode body = ok(post(plain, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"A film as JSON\"}],"
                    + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"film\",\"schema\":" + SCHEMA + "}},"
                    + "\"temperature\":1,\"seed\":" + seed + ",\"max_tokens\":" + (seed % 4 == 0 ? 60 : 160) + "}"));
            String content = body.at("/choices/0/message/content").asText();
            JsonNode film = JSON.readTree(content);
            assertTrue(film.get("title").isTextual() && film.get("title").asText().length() <= 30, content);
            assertTrue(film.get("year").isIntegralNumber(), content);
            assertTrue(film.get("genres").isArray() && film.get("genres").size() >= 1 && film.get("genres").size() <= 3, content);
            for (JsonNode g : film.get("genres")) assertTrue(g.isTextual() && g.asText().length() <= 10, content);
            assertTrue(film.get("rating").isNumber() || film.get("rating").isNull(), content);
            assertTrue(film.get("seen").isBoolean(), content);
            assertEquals(schema.get("properties").size(), film.size(), content);
        }
        for (int seed = 0; seed < 8; seed++) {
            JsonNode body = ok(post(plain, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"JSON please\"}],"
                    + "\"response_format\":{\"type\":\"json_object\"},\"temperature\":1,\"seed\":" + seed + ",\"max_tokens\":40}"));
            assertTrue(JSON.readTree(body.at("/choices/0/message/content").asText()).isObject(), body.toString());
        }
        HttpResponse<String> unsupported = post(plain, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"string\",\"pattern\":\"^a+$\"}}}}");
        assertError(unsupported, 400, "response_format");
        assertTrue(JSON.readTree(unsupported.body()).at("/error/message").asText().contains("'pattern'"));
        assertError(post(plain, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"yaml\"}}"), 400, "response_format");
    }

    @Test
    void toolCallFormatsAreReadBack() throws Exception {
        ToolCallFormat.Parsed hermes = ToolCallFormat.HERMES.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n"
                + "<tool_call>{\"name\": \"ping\", \"arguments\": {}}</tool_call>");
        assertEquals("Let me check.", hermes.content());
        assertEquals(List.of("get_weather", "ping"), hermes.calls().stream().map(ChatMessage.ToolCall::name).toList());
        assertEquals("{\"city\":\"Oslo\"}", hermes.calls().getFirst().arguments());
        ToolCallFormat.Parsed llama = ToolCallFormat.LLAMA3_JSON.parse("<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": 1}}; {\"name\": \"b\", \"parameters\": {}}<|eom_id|>");
        assertEquals(List.of("a", "b"), llama.calls().stream().map(ChatMessage.ToolCall::name).toList());
        assertNull(llama.content());
        ToolCallFormat.Parsed mistral = ToolCallFormat.MISTRAL.parse("[TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {\"q\": \"z\"}}]</s>");
        assertEquals("{\"q\":\"z\"}", mistral.calls().getFirst().arguments());
        ToolCallFormat.Parsed mistral11 = ToolCallFormat.MISTRAL.parse("[TOOL_CALLS]a[ARGS]{\"q\": 1}[TOOL_CALLS]b[ARGS]{}");
        assertEquals(List.of("a", "b"), mistral11.calls().stream().map(ChatMessage.ToolCall::name).toList());
        ToolCallFormat.Parsed broken = ToolCallFormat.HERMES.parse("<tool_call>{\"name\": oops</tool_call>");
        assertTrue(broken.calls().isEmpty(), "a malformed call stays text");
        assertEquals("<tool_call>{\"name\": oops</tool_call>", broken.content());
        assertEquals("plain answer", ToolCallFormat.LLAMA3_JSON.parse("plain answer").content());

        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(template("qwen2.5-0.5b")).orElseThrow());
        assertEquals(ToolCallFormat.LLAMA3_JSON, ToolCallFormat.of(template("llama3.1-8b")).orElseThrow());
        assertTrue(ToolCallFormat.of(template("gemma2-2b")).isEmpty());
        // what the grammar of a required call lets through is what the parser reads back
        List<JsonNode> tools = new ArrayList<>();
        JSON.readTree(TOOLS).forEach(tools::add);
        String written = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3, \"unit\": \"F\"}}\n</tool_call>";
        assertTrue(GrammarMatcher.start(ToolCallFormat.HERMES.grammar(tools)).advance(written).complete());
        assertEquals("get_weather", ToolCallFormat.HERMES.parse(written).calls().getFirst().name());
        assertNull(GrammarMatcher.start(ToolCallFormat.HERMES.grammar(tools)).advance("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"town\""));
    }

    private static String template(String name) throws Exception {
        return Files.readString(ROOT.resolve("runtime/src/test/resources/chat-templates/" + name + ".jinja"));
    }
}
