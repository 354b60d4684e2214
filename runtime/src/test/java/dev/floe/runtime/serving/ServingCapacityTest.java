package dev.floe.runtime.serving;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The KV pool and the batch limit sized together. */
class ServingCapacityTest {
    static final ModelConfig BUILT_IN = ConfigReader.read(Path.of(System.getProperty("floe.root"), "models", "arctic-tiny-code"));

    @Test
    void theDefaultPoolHoldsTheDefaultBatchAtFullContext() {
        // the issue: 16 requests of 1,000 tokens on the built-in model (context 1,024) thrashed a pool of 512 blocks
        ServingCapacity c = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 0, 0, 1L << 30);
        assertEquals(ServingCapacity.DEFAULT_MAX_BATCH, c.maxBatch());
        assertEquals(64, c.perSequence());
        assertEquals(16 * 64, c.kvBlocks());
        assertTrue(c.kvBlocks() * 16 >= 16 * 1000, "16 requests of 1,000 tokens fit");
        assertTrue(c.describe().contains("max batch 16"), c.describe());
    }

    @Test
    void littleMemoryShrinksTheBatchNotThePoolBelowOneSequence() {
        long block = 2L * BUILT_IN.numLayers() * 16 * BUILT_IN.numKvHeads() * BUILT_IN.headDim() * Float.BYTES;
        ServingCapacity c = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 0, 0, 3 * 64 * block + 5);
        assertEquals(3, c.maxBatch());
        assertEquals(3 * 64, c.kvBlocks());
        ServingCapacity tiny = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 0, 0, block);
        assertEquals(1, tiny.maxBatch());
        assertEquals(64, tiny.kvBlocks(), "one full-context sequence always fits");
    }

    @Test
    void whatIsGivenIsKeptAndTheRestFollows() {
        ServingCapacity batch = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 4, 0, 1L << 30);
        assertEquals(4, batch.maxBatch());
        assertEquals(4 * 64, batch.kvBlocks());
        ServingCapacity pool = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 0, 200, 1L << 30);
        assertEquals(200, pool.kvBlocks());
        assertEquals(3, pool.maxBatch());
        ServingCapacity both = ServingCapacity.plan(BUILT_IN, 16, BUILT_IN.maxPositions(), 16, 100, 1L << 30);
        assertEquals(100, both.kvBlocks());
        assertEquals(16, both.maxBatch());
        assertTrue(both.note().contains("preempted"), both.note());
        assertThrows(InvalidRequestException.class, () -> ServingCapacity.plan(BUILT_IN, 16, 1024, -1, 0, 1L << 30));
    }
}
