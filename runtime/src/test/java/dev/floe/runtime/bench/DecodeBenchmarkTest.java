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
        long kv = DecodeBenchmark.bytesPerToken(c, false, 100) - bf16;
        assertEquals(100L * c.numLayers() * c.numKvHeads() * c.headDim() * 2 * Float.BYTES, kv);
    }
}
