package dev.floe.runtime.parallel;

import dev.floe.api.DType;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.RoutingDecision;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.TensorSlices;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The sharding rules: which heads, KV heads, MLP rows and experts a rank holds, and the slices of a tensor. */
class ShardTest {
    static ModelConfig config(String folder) {
        return ConfigReader.read(Path.of(System.getProperty("floe.root", ".")).resolve(folder));
    }

    @Test
    void headsAndKvHeadsFollowTheQueryHeads() {
        ModelConfig mixtral = config("fixtures/tiny-mixtral"); // 4 heads, 2 KV heads
        Shard r1 = Shard.of(1, 2, 1);
        assertEquals(2, r1.heads(mixtral));
        assertEquals(2, r1.firstHead(mixtral));
        assertEquals(1, r1.kvHeads(mixtral));
        assertEquals(1, r1.firstKvHead(mixtral));
        ModelConfig arctic = config("fixtures/tiny-arctic"); // 4 heads, 1 KV head: replicated on both ranks
        assertEquals(1, r1.kvHeads(arctic));
        assertEquals(0, r1.firstKvHead(arctic));
        assertEquals(48, r1.share(96));
        assertEquals(48, r1.shareStart(96));
        assertEquals(0, Shard.of(1, 1, 2).shareStart(96), "attention is replicated under ep alone");
    }

    @Test
    void expertsAreContiguousRanges() {
        ModelConfig mixtral = config("fixtures/tiny-mixtral"); // 8 experts
        Shard r2 = Shard.of(2, 1, 4);
        assertEquals(4, r2.firstExpert(mixtral));
        assertTrue(r2.holdsExpert(mixtral, 5));
        assertFalse(r2.holdsExpert(mixtral, 6));
        assertFalse(r2.holdsExpert(mixtral, 3));
        RoutingDecision d = new RoutingDecision(new int[][]{{5, 0}, {7, 4}, {1, 2}}, new float[][]{{0.6f, 0.4f}, {0.7f, 0.3f}, {0.5f, 0.5f}});
        RoutingDecision local = r2.localDecision(mixtral, d);
        assertArrayEquals(new int[]{5}, local.experts()[0]);
        assertArrayEquals(new float[]{0.6f}, local.weights()[0]);
        assertArrayEquals(new int[]{4}, local.experts()[1]);
        assertArrayEquals(new float[]{0.3f}, local.weights()[1]);
        assertEquals(0, local.experts()[2].length);
        assertSame(d, Shard.of(1, 2, 1).localDecision(mixtral, d), "replicated experts run the whole decision");
    }

    @Test
    void layoutsTheModelCannotTakeAreNamed() {
        ModelConfig mixtral = config("fixtures/tiny-mixtral");
        assertTrue(assertThrows(InvalidRequestException.class, () -> Shard.check(mixtral, 3, 1, "m")).getMessage()
                .contains("--tp 3 does not divide num_attention_heads 4"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> Shard.check(mixtral, 1, 16, "m")).getMessage()
                .contains("--ep 16 does not divide num_local_experts 8"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> Shard.check(mixtral, 2, 4, "m")).getMessage()
                .contains("sub-communicators"));
        ModelConfig code = config("models/arctic-tiny-code"); // 8 heads, 2 KV heads
        Shard.check(code, 8, 1, "m"); // 2 KV heads, each replicated on 4 ranks
        assertEquals(1, Shard.of(5, 8, 1).firstKvHead(code));
        Shard.check(code, 4, 4, "m");
    }

    private static TensorData matrix(Arena arena, int rows, int cols, TensorData scale) {
        MemorySegment data = arena.allocate((long) rows * cols * 4);
        for (int i = 0; i < rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i);
        return new TensorData("w", DType.F32, new long[]{rows, cols}, data, scale);
    }

    @Test
    void rowSlicesAreViewsAndTakeTheirScaleRows() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(4 * 4);
            for (int i = 0; i < 4; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 10 + i);
            TensorData t = matrix(arena, 4, 3, new TensorData("w_scale", DType.F32, new long[]{4}, s, null));
            TensorData rows = TensorSlices.rows(t, 2, 2);
            assertArrayEquals(new long[]{2, 3}, rows.shape());
            assertEquals(6f, rows.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
            assertEquals(11f, rows.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 5));
            assertEquals(12f, rows.scale().data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
            assertEquals(13f, rows.scale().data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1));
            assertEquals(2, rows.scale().numel());
        }
    }

    @Test
    void columnSlicesCopyTheirColumnsAndKeepTheRowScales() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(4 * 2);
            TensorData scale = new TensorData("w_scale", DType.F32, new long[]{2}, s, null);
            TensorData t = matrix(arena, 2, 4, scale);
            TensorData cols = TensorSlices.columns(t, 1, 2, arena);
            assertArrayEquals(new long[]{2, 2}, cols.shape());
            float[] got = cols.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            assertArrayEquals(new float[]{1, 2, 5, 6}, got);
            assertSame(scale, cols.scale());
            assertThrows(IllegalArgumentException.class, () -> TensorSlices.columns(t, 3, 2, arena));
            assertThrows(IllegalArgumentException.class, () -> TensorSlices.rows(t, -1, 1));
        }
    }
}
