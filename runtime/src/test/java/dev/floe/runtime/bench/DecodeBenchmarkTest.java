package dev.floe.runtime.bench;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecodeBenchmarkTest {
    @Test
    void presetsLargerThanHostMemoryAreRefusedBeforeAnythingIsBuilt() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> DecodeBenchmark.checkHostMemory("arctic-1gpu", true, 40_000_000_000L, 22_000_000_000L));
        assertTrue(e.getMessage().contains("preset arctic-1gpu needs at least 40.0 GB") && e.getMessage().contains("22.0 GB is available"),
                e.getMessage());
        assertDoesNotThrow(() -> DecodeBenchmark.checkHostMemory("peer-cpu", false, 1_600_000_000L, 22_000_000_000L));
        assertDoesNotThrow(() -> DecodeBenchmark.checkHostMemory("peer-cpu", false, 1_600_000_000L, -1));
    }

    @Test
    void bytesPerTokenFollowTheLayerStructure() {
        ModelConfig c = BenchPreset.named("peer-cpu").config();
        // PEERS.md: 0.78 GB per token in BF16 for peer-cpu (weights; the KV cache adds a little with context)
        long bf16 = DecodeBenchmark.bytesPerToken(c, false, 0);
        assertTrue(bf16 > 0.77e9 && bf16 < 0.79e9, "bf16 bytes per token " + bf16);
        long fp8 = DecodeBenchmark.bytesPerToken(c, true, 0);
        assertTrue(fp8 > 0.40e9 && fp8 < 0.47e9, "fp8 bytes per token " + fp8);
        // an FP8 head (like llama.cpp's Q8_0 output weight): one byte and a row scale per element instead of two bytes
        long fp8Head = DecodeBenchmark.bytesPerToken(c, true, true, 0);
        assertEquals(fp8 - (long) c.vocabSize() * c.hiddenSize() + c.vocabSize() * 4L, fp8Head);
        assertTrue(fp8Head > 0.38e9 && fp8Head < 0.41e9, "fp8 with an fp8 head, bytes per token " + fp8Head);
        long kv = DecodeBenchmark.bytesPerToken(c, false, 100) - bf16;
        assertEquals(100L * c.numLayers() * c.numKvHeads() * c.headDim() * 2 * Float.BYTES, kv);
    }

    @Test
    void multiplyAddsCountEveryActiveWeightOnce() {
        ModelConfig c = BenchPreset.named("peer-cpu").config();
        // in BF16 each weight read for a token is two bytes and one multiply-add; only norms and the embedding row differ
        double weights = DecodeBenchmark.multiplyAddsPerToken(c, 0) + DecodeBenchmark.headMultiplyAdds(c);
        double bytes = DecodeBenchmark.bytesPerToken(c, false, 0);
        assertTrue(Math.abs(bytes - 2 * weights) < 64.0 * c.hiddenSize(), bytes + " bytes against " + weights + " multiply-adds");
        // attention adds q.k and p.v: 2 x heads x head_dim per position attended, per layer
        assertEquals(2.0 * c.numLayers() * c.numHeads() * c.headDim() * 10,
                DecodeBenchmark.multiplyAddsPerToken(c, 10) - DecodeBenchmark.multiplyAddsPerToken(c, 0), 1e-6);
        // a prompt: positions 1..n attended, one row of logits
        double three = DecodeBenchmark.multiplyAddsPerToken(c, 1) + DecodeBenchmark.multiplyAddsPerToken(c, 2)
                + DecodeBenchmark.multiplyAddsPerToken(c, 3) + DecodeBenchmark.headMultiplyAdds(c);
        assertEquals(three, DecodeBenchmark.promptMultiplyAdds(c, 3), 1e-6 * three);
    }

    @Test
    void weightFormatsAreNamedAsTheOptionsSayAndAnUnknownOneIsRefusedWithTheChoices() {
        assertEquals(WeightFormat.FP8_HEAD, WeightFormat.named("fp8-head", "--weights"));
        assertTrue(WeightFormat.FP8_HEAD.fp8() && WeightFormat.FP8_HEAD.fp8Head() && !WeightFormat.FP8.fp8Head());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> WeightFormat.named("q8_0", "--weights"));
        assertEquals("--weights: 'q8_0' is not one of bf16, fp8, fp8-head", e.getMessage());
    }
}
