package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.RopeScaling;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rope_scaling / rope_parameters as transformers spells them, and a clear error for everything else. */
class RopeScalingConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ModelConfig parse(String extra) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree("{\"model_type\": \"mixtral\", \"vocab_size\": 64, \"hidden_size\": 64,"
                + " \"num_attention_heads\": 4, \"max_position_embeddings\": 32, \"rope_theta\": 10000.0"
                + (extra.isEmpty() ? "" : ", " + extra) + "}");
        return ConfigReader.parse(root, "config.json");
    }

    private static void fails(String extra, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> parse(extra));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' lacks '" + f + "'");
        assertTrue(e.getMessage().startsWith("config.json: "), e.getMessage());
    }

    @Test
    void absentOrDefaultIsNoScaling() throws IOException {
        assertSame(RopeScaling.NONE, parse("").ropeScaling());
        assertSame(RopeScaling.NONE, parse("\"rope_scaling\": null").ropeScaling());
        assertSame(RopeScaling.NONE, parse("\"rope_scaling\": {\"rope_type\": \"default\"}").ropeScaling());
        ModelConfig v5 = parse("\"rope_parameters\": {\"rope_theta\": 500000.0}");
        assertSame(RopeScaling.NONE, v5.ropeScaling());
        assertEquals(500000.0, v5.ropeTheta(), "rope_parameters.rope_theta wins, as in transformers 5");
        assertEquals(32, v5.maxPositions());
    }

    @Test
    void everyTypeInBothSpellings() throws IOException {
        ModelConfig linear = parse("\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 4.0}");
        assertEquals(new RopeScaling.Linear(4), linear.ropeScaling());
        assertEquals(128, linear.maxPositions(), "linear scaling stretches the context by its factor");
        ModelConfig dynamic = parse("\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2}");
        assertEquals(new RopeScaling.Dynamic(2, 32), dynamic.ropeScaling());
        assertEquals(64, dynamic.maxPositions());
        ModelConfig yarn = parse("\"max_position_embeddings\": 128, \"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4,"
                + " \"original_max_position_embeddings\": 32, \"mscale\": 1, \"mscale_all_dim\": 0.5, \"truncate\": false,"
                + " \"rope_theta\": 1e6}");
        assertEquals(new RopeScaling.Yarn(4, 32, 32, 1, 1, 0.5, Double.NaN, false), yarn.ropeScaling());
        assertEquals(1e6, yarn.ropeTheta());
        assertEquals(128, yarn.maxPositions());
        assertEquals((0.1 * Math.log(4) + 1) / (0.05 * Math.log(4) + 1), ((RopeScaling.Yarn) yarn.ropeScaling()).attentionFactor(), 1e-15);
        // factor absent: max_position_embeddings / original_max_position_embeddings (transformers 5)
        RopeScaling implied = parse("\"max_position_embeddings\": 96, \"rope_scaling\": {\"rope_type\": \"yarn\","
                + " \"original_max_position_embeddings\": 32, \"beta_fast\": null, \"attention_factor\": 1.5}").ropeScaling();
        assertEquals(new RopeScaling.Yarn(3, 32, 32, 1, 0, 0, 1.5, true), implied);
        ModelConfig llama3 = parse("\"max_position_embeddings\": 131072, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0,"
                + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}");
        assertEquals(new RopeScaling.Llama3(8, 1, 4, 8192), llama3.ropeScaling());
        assertEquals(131072, llama3.maxPositions());
    }

    @Test
    void unsupportedTypesAreNamed() {
        fails("\"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 4}", "rope_scaling.rope_type = \"longrope\"", "not supported",
                "default, dynamic, linear, llama3, yarn");
        fails("\"rope_scaling\": {\"type\": \"su\"}", "rope_scaling.type = \"su\"");
        fails("\"rope_scaling\": {\"factor\": 4}", "rope_scaling has no rope_type");
        fails("\"rope_scaling\": \"linear\"", "field rope_scaling = \"linear\" is not an object");
        fails("\"rope_scaling\": {\"rope_type\": 3}", "rope_scaling.rope_type = 3 is not a string");
    }

    @Test
    void badValuesAreNamed() {
        fails("\"rope_scaling\": {\"rope_type\": \"linear\"}", "rope_scaling.factor is missing", "linear");
        fails("\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": \"4\"}", "rope_scaling.factor = \"4\" is not a number");
        fails("\"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 0.5}", "rope_scaling.factor 0.5 must be a finite number >= 1");
        fails("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"original_max_position_embeddings\": 32.5}",
                "rope_scaling.original_max_position_embeddings = 32.5 is not an integer");
        fails("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"truncate\": 1}", "rope_scaling.truncate = 1 is not true or false");
        fails("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"attention_factor\": -1}", "rope_scaling.attention_factor -1.0");
        fails("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4}",
                "rope_scaling.original_max_position_embeddings is missing", "llama3");
        fails("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 1,"
                + " \"original_max_position_embeddings\": 8192}", "high_freq_factor 1.0 must be greater than low_freq_factor 4.0");
        fails("\"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 2, \"partial_rotary_factor\": 0.5}",
                "rope_parameters.partial_rotary_factor = 0.5 is not supported");
        fails("\"partial_rotary_factor\": 0.25", "partial_rotary_factor = 0.25 is not supported");
    }

    @Test
    void theOldConstructorStillBuildsAnUnscaledConfig() throws IOException {
        ModelConfig c = parse("");
        ModelConfig old = new ModelConfig(c.family(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                c.numHeads(), c.numKvHeads(), c.headDim(), c.numExperts(), c.topK(), c.moeLayerFrequency(), c.parallelResidual(),
                c.ropeTheta(), c.rmsNormEps(), c.maxPositions(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(),
                c.torchDtype(), c.quantization());
        assertEquals(c, old);
    }
}
