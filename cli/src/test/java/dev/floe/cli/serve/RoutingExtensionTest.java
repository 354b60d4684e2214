package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.serving.Schedulers;
import dev.floe.runtime.serving.ServingConfig;
import dev.floe.runtime.serving.ServingEngine;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The opt-in "floe_routing" extension: the request's routing decisions next to usage; absent unless asked for. */
class RoutingExtensionTest {
    @Test
    void routingDecisionsComeBackOnlyWhenAskedFor() throws Exception {
        try (FloeModel model = FloeEngine.load(FloeEngine.findBuiltIn(), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { });
             ServingEngine engine = new ServingEngine(model, Schedulers.create("splitfuse"), ServingConfig.DEFAULTS);
             OpenAiServer server = new OpenAiServer(engine, "arctic-tiny-code", "127.0.0.1", 0, null)) {
            ObjectMapper json = new ObjectMapper();
            HttpResponse<String> plain = OpenAiServerTest.post(server, "/v1/completions", "{\"prompt\":\"def f(x):\",\"max_tokens\":3}");
            assertFalse(json.readTree(plain.body()).has("floe_routing"), plain.body());

            HttpResponse<String> r = OpenAiServerTest.post(server, "/v1/completions",
                    "{\"prompt\":\"def f(x):\",\"max_tokens\":3,\"floe_routing\":true}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode body = json.readTree(r.body()), routing = body.get("floe_routing");
            int prompt = body.get("usage").get("prompt_tokens").asInt();
            int layers = model.config().numLayers(); // every layer of the built-in model is MoE
            assertEquals((prompt + 2) * layers, routing.size(), "prompt rows and the two fed-back tokens, every layer");
            JsonNode first = routing.get(0);
            assertEquals(model.config().topK(), first.get("experts").size());
            assertTrue(first.has("layer") && first.has("position") && first.has("token") && first.has("weights"), first.toString());
        }
    }
}
