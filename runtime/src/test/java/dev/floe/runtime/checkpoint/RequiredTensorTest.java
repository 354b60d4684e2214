package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.TensorSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A required tensor has exactly the shape the config implies; only a vector may also be stored as [n, 1]. */
class RequiredTensorTest {
    /** A source holding one F32 tensor "t" of {@code shape}. */
    private static TensorSource holding(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        TensorData t = new TensorData("t", DType.F32, shape, MemorySegment.ofArray(new float[(int) n]), null);
        return new TensorSource() {
            public TensorData tensor(String name) { return t; }
            public boolean contains(String name) { return name.equals("t"); }
            public Set<String> names() { return Set.of("t"); }
            public long bytesMapped() { return 0; }
        };
    }

    private static String rejected(TensorSource src, long... shape) {
        return assertThrows(ModelFormatException.class, () -> RequiredTensor.of(src, "dir", "t", shape)).getMessage();
    }

    @Test
    void aVectorMayBeStoredAsAColumnOnly() {
        assertEquals("t", RequiredTensor.of(holding(4), "dir", "t", 4).name());
        assertEquals("t", RequiredTensor.of(holding(4, 1), "dir", "t", 4).name(), "[4, 1] holds the vector [4]");
        assertEquals("dir: tensor t has shape [4, 2], config.json implies [4]", rejected(holding(4, 2), 4));
        assertEquals("dir: tensor t has shape [3, 1], config.json implies [4]", rejected(holding(3, 1), 4));
        assertEquals("dir: tensor t has shape [4, 1, 1], config.json implies [4]", rejected(holding(4, 1, 1), 4));
        assertEquals("dir: tensor t has shape [4, 1], config.json implies [4, 7]", rejected(holding(4, 1), 4, 7));
        assertEquals("dir: tensor u is missing", assertThrows(ModelFormatException.class,
                () -> RequiredTensor.of(holding(4), "dir", "u", 4)).getMessage());
    }
}
