package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.floe.cli.serve.OpenAiServerTest.BUILT_IN;
import static dev.floe.cli.serve.OpenAiServerTest.HTTP;
import static dev.floe.cli.serve.OpenAiServerTest.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random corruption of request bodies sent to a live server while a well-formed streaming request runs beside
 * them: every mutant is answered promptly with a success or an OpenAI-shaped 4xx error (never a 5xx, never a hang),
 * the bystander's text equals what it gets alone, and every KV block returns to the pool.
 */
class RequestFuzzTest {
    private static final int CASES = Integer.getInteger("fuzz.cases", 150);
    private static final String[] BODIES = {
            "{\"model\":\"arctic-tiny-code\",\"prompt\":\"def add(a, b):\",\"max_tokens\":4,\"temperature\":0.7,\"top_p\":0.9,"
                    + "\"top_k\":20,\"seed\":3,\"stop\":[\"\\n\\n\"],\"stream\":false}",
            "{\"prompt\":[\"import os\"],\"max_tokens\":3,\"stream\":true,\"ignore_eos\":true}",
            "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}],"
                    + "\"max_tokens\":3,\"temperature\":0,\"stream\":true,\"stop\":\"zzz\"}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"sum a list\"}],\"max_completion_tokens\":3,\"presence_penalty\":0}"};
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonNode[] VALUES = {NODES.nullNode(), NODES.booleanNode(true), NODES.numberNode(0),
            NODES.numberNode(-1), NODES.numberNode(2), NODES.numberNode(1.5), NODES.numberNode(1e308),
            NODES.numberNode(Integer.MAX_VALUE), NODES.numberNode(Long.MAX_VALUE), NODES.numberNode(-0.0),
            NODES.textNode(""), NODES.textNode("x"), NODES.textNode("\u0000\uD83D\uDE00\u00e9"), NODES.arrayNode(),
            NODES.arrayNode().add(1).add("a"), NODES.objectNode(), NODES.objectNode().put("role", "user")};

    @Test
    void mutatedBodiesGetAnswersAndLeaveABystanderAlone() throws Exception {
        try (FloeModel model = FloeEngine.load(BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             ServingEngine engine = new ServingEngine(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS);
             OpenAiServer server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null)) {
            String bystander = "{\"prompt\":\"class Stack:\",\"max_tokens\":1000,\"temperature\":0,\"ignore_eos\":true}";
            String alone = text(send(server, "/v1/completions", bystander));
            CompletableFuture<HttpResponse<String>> beside = CompletableFuture.supplyAsync(
                    () -> OpenAiServerTest.call(() -> send(server, "/v1/completions", bystander)));
            for (int seed = 0; seed < CASES; seed++) {
                Random rnd = new Random(seed);
                String template = BODIES[rnd.nextInt(BODIES.length)];
                String path = template.contains("messages") ? "/v1/chat/completions" : "/v1/completions";
                String body = seed % 4 == 3 ? bytes(template, rnd) : mutate(template, rnd);
                HttpResponse<String> r;
                try {
                    r = send(server, path, body);
                } catch (java.net.http.HttpTimeoutException e) {
                    throw new AssertionError("seed " + seed + ": no answer within the timeout to " + body);
                }
                check(seed, body, r);
            }
            assertEquals(alone, text(beside.get(120, TimeUnit.SECONDS)), "the bystander's text is unchanged");
            OpenAiServerTest.waitFor(() -> engine.kvBlocksUsed() == 0);
            assertEquals(0, engine.kvBlocksUsed(), "every KV block is back in the pool");
        }
    }

    private static void check(int seed, String body, HttpResponse<String> r) throws Exception {
        int status = r.statusCode();
        if (status == 200) {
            boolean sse = r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
            if (sse) {
                List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).toList();
                if (data.isEmpty() || !data.getLast().equals("data: [DONE]")) {
                    fail("seed " + seed + ": a stream that does not end with [DONE] for " + body + ": " + r.body());
                }
            } else {
                assertTrue(JSON.readTree(r.body()).has("choices"), () -> "seed " + seed + ": " + r.body());
            }
            return;
        }
        if (status < 400 || status >= 500) fail("seed " + seed + ": status " + status + " for " + body + ": " + r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        if (error == null || error.path("message").asText("").isEmpty()) {
            fail("seed " + seed + ": an error without a message for " + body + ": " + r.body());
        }
    }

    /** One field of the body set to an odd value, removed, or an unknown one added; nested fields included. */
    private static String mutate(String template, Random rnd) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(template);
        List<Map.Entry<JsonNode, String>> slots = new ArrayList<>();
        collect(root, slots);
        Map.Entry<JsonNode, String> slot = slots.get(rnd.nextInt(slots.size()));
        JsonNode value = VALUES[rnd.nextInt(VALUES.length)];
        switch (rnd.nextInt(5)) {
            case 0 -> remove(slot);
            case 1 -> root.set("unknown_" + rnd.nextInt(3), value);
            default -> set(slot, value);
        }
        return root.toString();
    }

    /** Raw damage: truncation, a random byte, or a body that is not UTF-8. */
    private static String bytes(String template, Random rnd) {
        byte[] b = template.getBytes(StandardCharsets.UTF_8);
        return switch (rnd.nextInt(3)) {
            case 0 -> new String(Arrays.copyOf(b, rnd.nextInt(b.length)), StandardCharsets.UTF_8);
            case 1 -> {
                b[rnd.nextInt(b.length)] = (byte) (32 + rnd.nextInt(95));
                yield new String(b, StandardCharsets.UTF_8);
            }
            default -> new String(b, StandardCharsets.ISO_8859_1) + "\u00ff\u00fe";
        };
    }

    private static void collect(JsonNode node, List<Map.Entry<JsonNode, String>> slots) {
        if (node instanceof ObjectNode o) {
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                slots.add(Map.entry(node, name));
                collect(o.get(name), slots);
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                slots.add(Map.entry(node, Integer.toString(i)));
                collect(a.get(i), slots);
            }
        }
    }

    private static void set(Map.Entry<JsonNode, String> slot, JsonNode value) {
        if (slot.getKey() instanceof ObjectNode o) o.set(slot.getValue(), value);
        else ((ArrayNode) slot.getKey()).set(Integer.parseInt(slot.getValue()), value);
    }

    private static void remove(Map.Entry<JsonNode, String> slot) {
        if (slot.getKey() instanceof ObjectNode o) o.remove(slot.getValue());
        else ((ArrayNode) slot.getKey()).remove(Integer.parseInt(slot.getValue()));
    }

    private static HttpResponse<String> send(OpenAiServer s, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.ISO_8859_1.newEncoder().canEncode(body)
                        ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String text(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).at("/choices/0/text").asText();
    }
}
