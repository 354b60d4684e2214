package dev.floe.backend.cuda;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.KvLayout;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Launch shapes, kernel argument marshalling and attention flattening: the host logic that needs no device. */
class HostLogicTest {
    @Test
    void kernelArgsKeepOrderAndTypes() {
        KernelArgs a = new KernelArgs().ptr(0x1000).i32(7).f32(0.5f).i64(1L << 40).ptr(0);
        assertEquals("pifl" + "p", a.signature());
        assertEquals(5, a.size());
        assertTrue(a.toPointer() != null);
    }

    @Test
    void launchShapes() {
        assertEquals(new Launch(4, 1, 1, 256), Launch.elements(1000));
        assertEquals(new Launch(1, 1, 1, 256), Launch.elements(1));
        Launch mv = Launch.matvec(7168, 13);
        assertEquals(1792, mv.gridX());
        assertEquals(2, mv.gridY());
        assertEquals(128, mv.block());
        assertEquals(new Launch(2, 3, 1, 256), Launch.gemm(100, 129));
        assertEquals(new Launch(5, 56, 3, 128), Launch.attention(5, 56, 3));
        assertEquals(new Launch(3, 1, 1, 128), Launch.router(9));
        assertEquals(new Launch(70000, 2, 1, 256), Launch.rowsByColumns(70000, 300));
        assertThrows(IllegalArgumentException.class, () -> Launch.elements(0));
    }

    @Test
    void kernelEntryNames() {
        assertEquals("matvec_bf16", Kernel.MATVEC.entry(WeightFormat.BF16));
        assertEquals("moe_up_e4m3", Kernel.MOE_UP.entry(WeightFormat.E4M3));
        assertEquals("paged_attention", Kernel.PAGED_ATTENTION.entry());
        assertThrows(IllegalStateException.class, () -> Kernel.MATVEC.entry());
        assertThrows(IllegalStateException.class, () -> Kernel.ADD.entry(WeightFormat.F32));
        assertEquals(5, Kernel.GEMM.entries().size());
    }

    @Test
    void weightFormatsFollowCommonCuh() {
        // ordinals are the DT_* constants of common.cuh
        assertEquals(0, WeightFormat.F32.ordinal());
        assertEquals(2, WeightFormat.BF16.ordinal());
        assertEquals(3, WeightFormat.E4M3.ordinal());
        assertEquals(WeightFormat.E5M2, WeightFormat.of(dev.floe.api.DType.F8_E5M2));
        assertThrows(IllegalArgumentException.class, () -> WeightFormat.of(dev.floe.api.DType.I32));
    }

    @Test
    void attentionPlanFlattensAndPadsBlockTables() {
        KvLayout layout = new KvLayout(2, 2, 64, 10, 4);
        AttentionBatch batch = new AttentionBatch(8, new int[]{0, 5, 2}, new int[]{0, 0, 1}, new int[][]{{3, 7}, {9}});
        AttentionPlan p = AttentionPlan.of(batch, layout);
        assertEquals(2, p.maxBlocks());
        assertArrayEquals(new int[]{3, 7, 9, -1}, p.tables());
        assertArrayEquals(new int[]{0, 5, 2}, p.positions());
        assertArrayEquals(new int[]{0, 0, 1}, p.sequence());
        assertEquals(3, p.rows());
    }

    @Test
    void attentionPlanRejectsBadBatches() {
        KvLayout layout = new KvLayout(1, 2, 64, 10, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionPlan.of(
                new AttentionBatch(3, new int[]{0}, new int[]{0}, new int[][]{{0}}), layout)).getMessage().contains("heads=3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionPlan.of(
                new AttentionBatch(4, new int[]{4}, new int[]{0}, new int[][]{{0}}), layout)).getMessage().contains("positions[0] = 4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionPlan.of(
                new AttentionBatch(4, new int[]{0}, new int[]{1}, new int[][]{{0}}), layout)).getMessage().contains("sequence[0] = 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionPlan.of(
                new AttentionBatch(4, new int[]{0}, new int[]{0}, new int[][]{{10}}), layout)).getMessage().contains("blockTables[0][0] = 10"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionPlan.of(
                new AttentionBatch(4, new int[]{0}, new int[]{0}, new int[][]{{0}}), new KvLayout(1, 2, 512, 1, 4)))
                .getMessage().contains("headDim=512"));
    }

    @Test
    void attentionSplitsOnlyLongContextsWithFewRows() {
        KvLayout layout = new KvLayout(1, 8, 128, 64, 16);
        int[] table = new int[64];
        for (int i = 0; i < 64; i++) table[i] = i;
        // decode, one row, 56 heads, 1000 keys on 132 SMs: ceil(1000/256) = 4 splits by length, 5 by occupancy
        AttentionPlan decode = AttentionPlan.of(AttentionBatch.single(56, new int[]{999}, table), layout);
        assertEquals(4, decode.splits(132));
        assertEquals(250, decode.chunk(4));
        assertTrue(4 * decode.chunk(4) >= 1000, "the splits cover every key");
        // short context: no split
        assertEquals(1, AttentionPlan.of(AttentionBatch.single(56, new int[]{100}, table), layout).splits(132));
        // enough (row, head) pairs to fill the device: no split
        int[] many = new int[8];
        Arrays.fill(many, 999);
        assertEquals(1, AttentionPlan.of(AttentionBatch.single(56, many, table), layout).splits(132));
        // very long context: 64 splits by length, 33 by occupancy (2*132/8), capped at MAX_SPLITS
        KvLayout big = new KvLayout(1, 8, 128, 1024, 16);
        int[] longTable = new int[1024];
        for (int i = 0; i < longTable.length; i++) longTable[i] = i;
        assertEquals(AttentionPlan.MAX_SPLITS, AttentionPlan.of(AttentionBatch.single(8, new int[]{16383}, longTable), big).splits(132));
    }

    @Test
    void kvPlanesAreDisjointAndInOrder() {
        KvLayout layout = new KvLayout(3, 2, 8, 4, 2);
        CudaKvCache c = new CudaKvCache(null, layout, 0x1000);
        long plane = CudaKvCache.planeBytes(layout);
        assertEquals(8L * 16 * 4, plane);
        assertEquals(0x1000, c.keys(0));
        assertEquals(0x1000 + plane, c.values(0));
        assertEquals(0x1000 + 4 * plane, c.keys(2));
        assertEquals(layout.byteSize(), 6 * plane);
        assertThrows(IllegalArgumentException.class, () -> c.keys(3));
    }

    @Test
    void checksNameTheArgument() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Checks.indices("ids", new int[]{1, 9}, 5, "of t rows"))
                .getMessage().contains("ids[1]=9"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Checks.toInt("w.cols", 1L << 33))
                .getMessage().contains("w.cols"));
    }
}
