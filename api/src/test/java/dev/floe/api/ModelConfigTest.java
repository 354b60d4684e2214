package dev.floe.api;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json validation: each field on both sides of its bound, with the field and value in the message. */
class ModelConfigTest {
    /** The fields of a valid config, changed one at a time by the tests. */
    private static final class Fields {
        ModelFamily family = ModelFamily.ARCTIC;
        int vocab = 100, hidden = 16, intermediate = 8, layers = 4, heads = 8, kvHeads = 2, headDim = 4, experts = 4, topK = 2;
        int moeFrequency = 1, maxPositions = 64, bos = 1;
        boolean parallelResidual = true, tied = false;
        double ropeTheta = 10000, eps = 1e-5;
        List<Integer> eos = List.of(2);

        ModelConfig build() {
            return new ModelConfig(family, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, experts, topK,
                    moeFrequency, parallelResidual, ropeTheta, eps, maxPositions, tied, bos, eos, "bfloat16", null);
        }
    }

    private static ModelConfig config(Consumer<Fields> change) {
        Fields f = new Fields();
        change.accept(f);
        return f.build();
    }

    private static String rejected(Consumer<Fields> change) {
        return assertThrows(ModelFormatException.class, () -> config(change)).getMessage();
    }

    @Test
    void everyCountMustBePositive() {
        List<Consumer<Fields>> zero = List.of(f -> f.vocab = 0, f -> f.hidden = 0, f -> f.intermediate = 0, f -> f.layers = 0,
                f -> f.heads = 0, f -> f.kvHeads = 0, f -> f.headDim = 0, f -> f.experts = 0, f -> f.topK = 0,
                f -> f.moeFrequency = 0, f -> f.maxPositions = 0);
        List<String> names = List.of("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "head_dim", "num_local_experts", "num_experts_per_tok", "moe_layer_frequency",
                "max_position_embeddings");
        for (int i = 0; i < zero.size(); i++) {
            assertEquals("config: " + names.get(i) + " must be positive, got 0", rejected(zero.get(i)));
        }
        assertEquals("config: hidden_size must be positive, got -3", rejected(f -> f.hidden = -3));
        ModelConfig ones = config(f -> {
            f.vocab = 3; f.hidden = 1; f.intermediate = 1; f.layers = 1; f.heads = 1; f.kvHeads = 1; f.headDim = 2;
            f.experts = 1; f.topK = 1; f.moeFrequency = 1; f.maxPositions = 1; f.bos = 0; f.eos = List.of(0);
        });
        assertEquals(1, ones.maxPositions());
    }

    @Test
    void shapesMustBeConsistent() {
        assertEquals("config: num_attention_heads 8 is not a multiple of num_key_value_heads 3", rejected(f -> f.kvHeads = 3));
        assertEquals(4, config(f -> f.kvHeads = 2).groupSize());
        assertEquals(1, config(f -> f.kvHeads = 8).groupSize());
        assertEquals("config: head_dim 5 must be even for rotary embeddings", rejected(f -> f.headDim = 5));
        assertEquals("config: num_experts_per_tok 5 exceeds num_local_experts 4", rejected(f -> f.topK = 5));
        assertEquals(4, config(f -> f.topK = 4).topK());
    }

    @Test
    void ropeThetaIsPositiveAndFinite() {
        for (double bad : new double[]{0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertEquals("config: rope_theta " + bad + " must be a positive finite number", rejected(f -> f.ropeTheta = bad));
        }
        assertEquals(Double.MIN_VALUE, config(f -> f.ropeTheta = Double.MIN_VALUE).ropeTheta());
        assertEquals(Double.MAX_VALUE, config(f -> f.ropeTheta = Double.MAX_VALUE).ropeTheta());
    }

    @Test
    void rmsNormEpsIsBetweenZeroAndOne() {
        for (double bad : new double[]{0, -1e-5, 1, Double.NaN}) {
            assertEquals("config: rms_norm_eps " + bad + " must be in (0, 1)", rejected(f -> f.eps = bad));
        }
        assertEquals(Double.MIN_VALUE, config(f -> f.eps = Double.MIN_VALUE).rmsNormEps());
        assertEquals(Math.nextDown(1.0), config(f -> f.eps = Math.nextDown(1.0)).rmsNormEps());
    }

    @Test
    void specialTokensAreInTheVocabulary() {
        assertEquals("config: bos_token_id 100 is outside vocab_size 100", rejected(f -> f.bos = 100));
        assertEquals(99, config(f -> f.bos = 99).bosTokenId());
        assertEquals(-1, config(f -> f.bos = -1).bosTokenId(), "-1: no BOS");
        assertEquals("config: eos_token_id 100 is outside vocab_size 100", rejected(f -> f.eos = List.of(2, 100)));
        assertEquals("config: eos_token_id -1 is outside vocab_size 100", rejected(f -> f.eos = List.of(-1)));
        ModelConfig c = config(f -> f.eos = List.of(0, 99));
        assertTrue(c.isEos(0) && c.isEos(99));
        assertFalse(c.isEos(1));
        assertFalse(config(f -> f.eos = List.of()).isEos(2));
        List<Integer> eos = new ArrayList<>(List.of(2));
        ModelConfig copied = config(f -> f.eos = eos);
        eos.add(3);
        assertEquals(List.of(2), copied.eosTokenIds(), "the config keeps its own copy");
    }

    @Test
    void layerKinds() {
        ModelConfig everyOther = config(f -> f.moeFrequency = 2);
        assertFalse(everyOther.isMoeLayer(0));
        assertTrue(everyOther.isMoeLayer(1));
        assertFalse(everyOther.isMoeLayer(2));
        assertTrue(everyOther.isMoeLayer(3));
        ModelConfig everyThird = config(f -> f.moeFrequency = 3);
        assertFalse(everyThird.isMoeLayer(0));
        assertFalse(everyThird.isMoeLayer(1));
        assertTrue(everyThird.isMoeLayer(2), "layer i is MoE iff (i + 1) % freq == 0");
        assertFalse(everyThird.isMoeLayer(3));
        assertTrue(everyOther.hasResidualMlp(1));
        assertFalse(everyOther.hasResidualMlp(0), "a dense layer has no residual MLP beside it");
        assertFalse(config(f -> f.parallelResidual = false).hasResidualMlp(0));
        ModelConfig mixtral = config(f -> { f.family = ModelFamily.MIXTRAL; f.moeFrequency = 2; });
        assertTrue(mixtral.isMoeLayer(0), "every mixtral layer is MoE");
        assertFalse(mixtral.hasResidualMlp(1), "mixtral has no residual MLP");
        assertTrue(mixtral.renormalizeTopK());
        assertTrue(config(f -> { f.family = ModelFamily.MIXTRAL; f.topK = 1; }).renormalizeTopK());
        assertTrue(config(f -> f.topK = 2).renormalizeTopK());
        assertFalse(config(f -> f.topK = 1).renormalizeTopK(), "arctic top-1 keeps the softmax probability");
    }

    /** Mixtral-8x7B's config.json: 46,702,792,704 parameters, the total its safetensors index reports. */
    @Test
    void parameterCountsOfMixtral8x7B() {
        ModelConfig mixtral = new ModelConfig(ModelFamily.MIXTRAL, 32000, 4096, 14336, 32, 32, 8, 128, 8, 2, 1, false,
                1e6, 1e-5, 32768, false, 1, List.of(2), "bfloat16", null);
        assertEquals(46_702_792_704L, mixtral.parameterCount());
        // decoding one token reads 2 of the 8 experts (6 idle, 3 matrices of 4096 x 14336 each, in 32 layers) and one
        // embedding row instead of the whole table
        long idle = 32L * 6 * 3 * 4096 * 14336;
        assertEquals(46_702_792_704L - idle - 31999L * 4096, mixtral.activeParameterCount());
    }

    /**
     * A tiny arctic by hand: vocab 10, hidden 4, intermediate 2, 2 layers (moe_layer_frequency 2: layer 0 dense,
     * layer 1 MoE with the residual MLP), 2 heads and 1 KV head of width 2, 3 experts, top 2.
     */
    @Test
    void parameterCountsOfATinyArctic() {
        ModelConfig c = new ModelConfig(ModelFamily.ARCTIC, 10, 4, 2, 2, 2, 1, 2, 3, 2, 2, true, 1e4, 1e-5, 16, false,
                -1, List.of(), "float32", null);
        long attention = 4 * 2 * (2 * 2 + 2 * 1);          // q, o: 4x(2x2); k, v: 4x(1x2) = 48
        long norms = 2 * 4;                                  // two RMSNorm weights per layer
        long dense = 3 * 4 * 2;                              // gate, up, down = 24
        long router = 3 * 4;
        long experts = 3 * 3 * 4 * 2;                        // 72
        long residual = 3 * 4 * 4 + 4;                       // arctic's residual MLP (hidden x hidden) and its norm = 52
        long embeddings = 2 * 10 * 4 + 4;                    // embedding, head, final norm = 84
        assertEquals(embeddings + 2 * (attention + norms) + dense + router + experts + residual, c.parameterCount());
        long active = 10 * 4 + 4 + 4 + 2 * (attention + norms) + dense + router + 2 * 3 * 4 * 2 + residual;
        assertEquals(active, c.activeParameterCount());
        ModelConfig tied = new ModelConfig(ModelFamily.ARCTIC, 10, 4, 2, 2, 2, 1, 2, 3, 2, 2, true, 1e4, 1e-5, 16, true,
                -1, List.of(), "float32", null);
        assertEquals(c.parameterCount() - 10 * 4, tied.parameterCount(), "a tied head adds no parameters");
    }
}
