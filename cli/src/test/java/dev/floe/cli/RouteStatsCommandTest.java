package dev.floe.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.gating.RoutingTelemetry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class RouteStatsCommandTest {
    private static RoutingTelemetry.Snapshot snapshot() {
        var telemetry = new RoutingTelemetry();
        for (int layer = 0; layer < 3; layer++) {
            var input = new RoutingInput(layer, new float[4][4], new int[4], new int[4], 2, true);
            telemetry.onRouting(layer, input, new RoutingDecision(
                    new int[][]{{0, 1}, {0, 2}, {0, 3}, {}}, new float[][]{{.5f, .5f}, {.6f, .4f}, {.7f, .3f}, {}}));
        }
        return telemetry.snapshot();
    }

    @Test
    void negativeLogLikelihoodIsCrossEntropy() {
        float[] logits = {1, 2, 3};
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(-Math.log(Math.exp(2) / z), RouteStatsCommand.negativeLogLikelihood(logits, 1), 1e-9);
        assertEquals(Math.log(3), RouteStatsCommand.negativeLogLikelihood(new float[]{500, 500, 500}, 0), 1e-9);
    }

    @Test
    void reportSerialisesToJson() throws Exception {
        var report = new RouteStatsReport("m", "softmax-topk", "cpu-vector", "t", 10, 1, 256, 9, 1.5, Math.exp(1.5), 0.1,
                100, java.util.List.of(50.0, 100.0), snapshot());
        JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(report));
        assertEquals(9, json.get("predictedTokens").asInt());
        assertEquals(3, json.at("/routing/layers").size());
        assertEquals(3, json.at("/routing/layers/1/experts/0/tokens").asInt());
        assertEquals(1, json.at("/routing/layers/2/unroutedTokens").asInt());
    }

    @Test
    void heatMapHasOneCellPerExpertAndLayerAndALegend() {
        String svg = LoadHeatMap.svg(snapshot(), "router <x> & y");
        assertTrue(svg.startsWith("<svg") && svg.strip().endsWith("</svg>"));
        assertEquals(12, svg.split("<title>layer ", -1).length - 1);
        assertTrue(svg.contains("linearGradient") && svg.contains("layer 2") && svg.contains("&lt;x&gt; &amp; y"));
        // expert 0 takes 3 of 6 assignments: 2x the mean, the top of the scale
        assertTrue(svg.contains("layer 0 expert 0: 3 tokens (2.00 x mean)"), svg);
    }

    @Test
    void severalRoutersGiveAnArrayAndOnePanelEach(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = new CommandLine(new RouteStatsCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        Path model = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
        int code = cli.execute("--model", model.toString(), "--router", "softmax-topk", "--router", "hash:seed=3",
                "--max-tokens", "40", "--report", dir.resolve("r.json").toString(), "--image", dir.resolve("h.svg").toString());
        assertEquals(0, code, err.toString());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("r.json").toFile());
        assertEquals(2, json.size());
        assertEquals("softmax-topk", json.at("/0/router").asText());
        assertTrue(json.at("/1/router").asText().startsWith("hash"));
        assertEquals(1.0, json.at("/0/routing/agreement").asDouble(), 1e-12);
        assertTrue(json.at("/1/routing/agreement").asDouble() < 1);
        String svg = Files.readString(dir.resolve("h.svg"));
        assertEquals(2, svg.split("<g transform", -1).length - 1);
        assertTrue(out.toString().contains("experts/tok"), out.toString());
    }

    @Test
    void unknownRouterFailsWithItsName() {
        StringWriter err = new StringWriter();
        var cli = new CommandLine(new RouteStatsCommand()).setErr(new PrintWriter(err));
        Path model = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
        int code = cli.execute("--model", model.toString(), "--router", "no-such-router", "--max-tokens", "8");
        assertEquals(1, code);
        assertTrue(err.toString().contains("no-such-router"), err.toString());
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2, RouteStatsCommand.median(new double[]{3, 1, 2}));
        assertEquals(2.5, RouteStatsCommand.median(new double[]{4, 1, 3, 2}));
    }

    @Test
    void paletteEndsAndMiddle() {
        assertEquals("#2166ac", LoadHeatMap.colour(0));
        assertEquals("#b2182b", LoadHeatMap.colour(1));
        assertEquals("#f7f7f7", LoadHeatMap.colour(0.5)); // an even load is white
        assertEquals("#b2182b", LoadHeatMap.colour(7));
        assertEquals("#c5deeb", LoadHeatMap.colour(0.375)); // halfway between #92c5de and #f7f7f7
    }

    @Test
    void bundledSampleIsTheCommittedOne() throws Exception {
        Path docs = Path.of(System.getProperty("floe.root"), "docs", "samples", RouteStatsCommand.SAMPLE);
        assertEquals(Files.readString(docs), RouteStatsCommand.sample());
        assertTrue(RouteStatsCommand.sample().lines().count() >= 250);
    }

    @Test
    void badArgumentsAreRejectedWithTheirValue() {
        StringWriter err = new StringWriter();
        var cli = new CommandLine(new RouteStatsCommand()).setErr(new PrintWriter(err));
        assertEquals(2, cli.execute("--max-tokens", "1"));
        assertTrue(err.toString().contains("--max-tokens must be at least 2, got 1"), err.toString());
    }

    @Test
    void runsOnTheBuiltInModel(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = new CommandLine(new RouteStatsCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        Path model = Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code");
        int code = cli.execute("--model", model.toString(), "--router", "capacity-topk:capacity_factor=1", "--max-tokens", "96",
                "--window", "48", "--repeat", "2", "--report", dir.resolve("r.json").toString(), "--image", dir.resolve("h.svg").toString());
        assertEquals(0, code, err.toString());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("r.json").toFile());
        assertEquals(96, json.get("tokens").asInt());
        assertEquals(2, json.get("windows").asInt());
        assertEquals(94, json.get("predictedTokens").asInt());
        double ppl = json.get("perplexity").asDouble();
        assertTrue(ppl > 1 && ppl < 4096, "perplexity " + ppl);
        assertTrue(Files.readString(dir.resolve("h.svg")).contains("<rect"));
        assertEquals(2, json.get("runTokensPerSecond").size());
        assertEquals(json.at("/runTokensPerSecond/1").asDouble(), json.get("tokensPerSecond").asDouble(), 1e-9);
        // statistics come from the first run only: 96 tokens through each of the 4 MoE layers
        assertEquals(96, json.at("/routing/layers/0/tokens").asInt());
        assertTrue(out.toString().contains("perplexity"));
    }
}
