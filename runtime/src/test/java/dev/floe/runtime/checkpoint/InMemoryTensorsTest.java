package dev.floe.runtime.checkpoint;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import dev.floe.api.ModelOptions;
import dev.floe.api.TensorData;
import dev.floe.runtime.FloeEngine;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link InMemoryTensors}: a byte-for-byte copy of a checkpoint, scales included, that owns its memory. */
class InMemoryTensorsTest {
    private static final Path ROOT = Path.of(System.getProperty("floe.root", ".."));
    private static final Path FP8 = ROOT.resolve("fixtures/tiny-arctic-fp8");

    @Test
    void copiesEveryTensorAndScaleByteForByte() {
        try (Checkpoint ck = Checkpoint.open(FP8);
             InMemoryTensors copy = InMemoryTensors.copyOf(ck, FP8.toString())) {
            assertEquals(ck.names(), copy.names());
            assertEquals(0, copy.bytesMapped());
            assertEquals(WeightArena.hugePagesAvailable(), copy.hugePageBytes() > 0, "huge pages: " + copy.hugePageBytes());
            int scaled = 0;
            for (String name : ck.names()) {
                TensorData a = ck.tensor(name), b = copy.tensor(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertEquals(-1, a.data().mismatch(b.data()), name + " differs from the checkpoint");
                assertNotEquals(a.data().address(), b.data().address(), name + " is not a copy");
                assertEquals(a.scale() == null, b.scale() == null, name);
                if (a.scale() != null) {
                    scaled++;
                    assertEquals(-1, a.scale().data().mismatch(b.scale().data()), name + "'s scale differs");
                }
            }
            assertTrue(scaled > 0, "the FP8 fixture has scaled tensors");
            var e = assertThrows(ModelFormatException.class, () -> copy.tensor("model.no_such.weight"));
            assertTrue(e.getMessage().contains("model.no_such.weight") && e.getMessage().contains(FP8.toString()), e.getMessage());
        }
    }

    @Test
    void theOptionMustBeTrueOrFalse() {
        ModelOptions o = ModelOptions.DEFAULTS.withBackend("cpu-vector").withProperties(Map.of(FloeEngine.WEIGHTS_IN_MEMORY, "yes"));
        var e = assertThrows(InvalidRequestException.class, () -> FloeEngine.load(FP8, o, l -> { }));
        assertTrue(e.getMessage().contains("weights.in-memory=yes"), e.getMessage());
        assertNotNull(e.getMessage());
    }
}
