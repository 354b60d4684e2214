package dev.floe.runtime.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ForwardObserver;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.ModelOptions;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routing decisions observed from Model.generate, through the request's observer, as JSON lines. */
class RoutingTraceTest {
    @Test
    void generateReportsEveryRoutingDecisionOfTheRequest() throws Exception {
        try (FloeModel m = FloeEngine.load(FloeEngine.findBuiltIn(), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            int[] prompt = m.tokenizer().encode("def add(a, b):", true);
            int moeLayers = 0;
            for (int l = 0; l < m.config().numLayers(); l++) if ((l + 1) % m.config().moeLayerFrequency() == 0) moeLayers++;
            List<RoutingDecision> seen = new ArrayList<>();
            ForwardObserver counting = new ForwardObserver() {
                @Override
                public void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
                    seen.add(decision);
                }
            };
            GenerationResult plain = m.generate(GenerationRequest.ofIds(prompt, 5).withIgnoreEos(true));
            GenerationResult observed = m.generate(GenerationRequest.ofIds(prompt, 5).withIgnoreEos(true).withObserver(counting));
            assertArrayEquals(plain.tokens(), observed.tokens(), "observing changes nothing");
            // the prompt pass, then one pass per generated token but the last (which is never fed back)
            assertEquals(moeLayers * 5, seen.size());
            assertEquals(prompt.length, seen.getFirst().tokens());

            StringWriter json = new StringWriter();
            RoutingTrace trace = new RoutingTrace(json);
            m.generate(GenerationRequest.ofIds(prompt, 5).withIgnoreEos(true).withObserver(trace));
            String[] lines = json.toString().split("\n");
            assertEquals((long) moeLayers * (prompt.length + 4), lines.length);
            assertEquals(lines.length, trace.lines());
            JsonNode first = new ObjectMapper().readTree(lines[0]), last = new ObjectMapper().readTree(lines[lines.length - 1]);
            assertEquals(0, first.get("pass").asInt());
            assertEquals(prompt[0], first.get("token").asInt());
            assertEquals(0, first.get("position").asInt());
            assertEquals(m.config().topK(), first.get("experts").size());
            assertEquals(4, last.get("pass").asInt());
            assertEquals(prompt.length + 3, last.get("position").asInt());
            assertEquals(observed.tokens()[3], last.get("token").asInt());
            double sum = 0;
            for (JsonNode w : first.get("weights")) sum += w.asDouble();
            assertTrue(Math.abs(sum - 1) < 1e-4, "softmax-topk weights renormalised: " + sum);
        }
    }
}
