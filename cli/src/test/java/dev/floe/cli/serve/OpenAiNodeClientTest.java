package dev.floe.cli.serve;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real client: the official {@code openai} npm package streams a chat completion from the server, asks for
 * logprobs, several choices and json_schema output, and makes a required tool call against a second server whose
 * model (the built-in one with Qwen 2.5's chat template) defines tool calls ({@code it/openai-client/stream-chat.mjs}).
 * Skipped when node or the installed package is missing ({@code npm ci --prefix it/openai-client} installs it).
 */
class OpenAiNodeClientTest {
    @Test
    void theOfficialClientStreamsAChatCompletion() throws Exception {
        Path root = Path.of(System.getProperty("floe.root"));
        Path dir = root.resolve("it/openai-client");
        assumeTrue(Files.isDirectory(dir.resolve("node_modules/openai")),
                "the openai npm package is not installed (run: npm ci --prefix it/openai-client)");
        assumeTrue(nodeAvailable(), "node is not on the PATH");
        Path qwenDir = Files.createTempDirectory("floe-qwen-template");
        ToolsAndJsonOutputTest.withQwenTemplate(root.resolve("models/arctic-tiny-code"), qwenDir);
        try (FloeModel model = FloeEngine.load(root.resolve("models/arctic-tiny-code"), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             ServingEngine engine = new ServingEngine(model, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
             OpenAiServer server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, "it-key");
             FloeModel qwen = FloeEngine.load(qwenDir, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             ServingEngine qwenEngine = new ServingEngine(qwen, Schedulers.create("continuous"), ServingConfig.DEFAULTS);
             OpenAiServer tools = new OpenAiServer(qwenEngine, "tiny-qwen", "127.0.0.1", 0, "it-key")) {
            ProcessBuilder pb = new ProcessBuilder("node", "stream-chat.mjs").directory(dir.toFile()).redirectErrorStream(true);
            pb.environment().put("FLOE_BASE_URL", "http://127.0.0.1:" + server.port() + "/v1");
            pb.environment().put("FLOE_TOOLS_BASE_URL", "http://127.0.0.1:" + tools.port() + "/v1");
            pb.environment().put("FLOE_API_KEY", "it-key");
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "node finished");
            String text = new String(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("\"finish\":\"length\"") && text.contains("\"completion_tokens\":24"), text);
            assertTrue(text.contains("\"logprobs\":6") && text.contains("\"n\":3") && text.contains("\"toolCall\":\"get_weather,streamed in "), text);
        } finally {
            try (var files = Files.list(qwenDir)) {
                for (Path f : files.toList()) Files.delete(f);
            }
            Files.delete(qwenDir);
        }
    }

    private static boolean nodeAvailable() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
