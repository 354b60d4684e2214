package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.RoutingSpec;
import dev.floe.api.TensorData;
import dev.floe.backend.cuda.CudaBackendHostTest.Launched;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.SpiVersion;
import dev.floe.spi.Weight;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Block-scaled FP8 weights ({@link ScaleLayout.Block}) on the CUDA host side, against the recording device: the grid of
 * scales goes to the device once, matmul launches {@code matmul_block_fp8} for every batch size (never cuBLASLt, whose
 * scales are per tensor), the fused MoE launches the block expert kernels, and the operations without block kernels
 * refuse such a weight by name. The arithmetic runs only on a GPU (gpu-check.sh: the TCK's block checks).
 */
class CudaBlockScaleHostTest extends RecordingFixture {
    static final ScaleLayout.Block BLOCK = new ScaleLayout.Block(32, 48);

    /** An FP8 weight with a grid of block scales 1, 2, 3, ... */
    Weight blockWeight(String name, DType dtype, long rows, long cols, ScaleLayout.Block b) {
        long n = b.gridRows(rows) * b.gridCols(cols);
        var scale = arena.allocate(n * 4, 16);
        for (long i = 0; i < n; i++) scale.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i + 1);
        TensorData t = new TensorData(name, dtype, new long[]{rows, cols}, arena.allocate(rows * cols, 16),
                new TensorData(name + "_scale_inv", DType.F32, new long[]{b.gridRows(rows), b.gridCols(cols)}, scale, null));
        return cuda.weight(t, b);
    }

    @Test
    void declaresBlockScalesAndImplementsThem() {
        assertTrue(cuda.capabilities().contains(Capability.WEIGHTS_BLOCK_SCALES));
        assertTrue(SpiVersion.effectiveCapabilities(cuda).contains(Capability.WEIGHTS_BLOCK_SCALES));
    }

    @Test
    void matmulLaunchesTheBlockKernelForEveryBatchSize() {
        Weight w = blockWeight("w", DType.F8_E4M3, 70, 100, BLOCK);
        CudaWeight cw = (CudaWeight) w;
        assertEquals(BLOCK, cw.block());
        assertEquals(70 * 100 + 9 * 4, w.byteSize(), "the codes and a 3x3 grid of scales");
        for (int rows : new int[]{1, 5, 100}) {
            Buffer x = cuda.allocate(rows * 100L), out = cuda.allocate(rows * 70L);
            int from = device.launches.size();
            cuda.matmul(x, rows, w, out);
            List<Launched> l = device.launches.subList(from, device.launches.size());
            assertEquals(List.of("matmul_block_fp8"), l.stream().map(Launched::entry).toList(), rows + " rows");
            CudaBackendHostTest.matchesPtx(l.getFirst());
            assertEquals(Launch.matvec(70, rows), l.getFirst().launch());
            assertEquals(List.of(((CudaBuffer) x).address(), rows, cw.data(), cw.scale(), 0, 32, 48,
                    ((CudaBuffer) out).address(), 70, 100), l.getFirst().args().values());
        }
        Weight e5 = blockWeight("w5", DType.F8_E5M2, 64, 64, new ScaleLayout.Block(128, 128));
        Buffer x = cuda.allocate(64), out = cuda.allocate(64);
        cuda.matmul(x, 1, e5, out);
        assertEquals(List.of(((CudaBuffer) x).address(), 1, ((CudaWeight) e5).data(), ((CudaWeight) e5).scale(), 1, 128, 128,
                ((CudaBuffer) out).address(), 64, 64), device.launches.getLast().args().values());
    }

    @Test
    void operationsWithoutBlockKernelsRefuseTheWeight() {
        Weight w = blockWeight("model.layers.0.mlp.w1.weight", DType.F8_E4M3, 64, 64, BLOCK);
        Buffer x = cuda.allocate(64 * 64), out = cuda.allocate(64 * 64);
        String msg = assertThrows(IllegalArgumentException.class, () -> cuda.embed(w, new int[]{1}, out)).getMessage();
        assertTrue(msg.contains("embed: weight model.layers.0.mlp.w1.weight has block 32x48 scales"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> cuda.rmsNorm(x, w, 1e-5f, 1, 64 * 64, out)).getMessage();
        assertTrue(msg.contains("rmsNorm"), msg);
    }

    @Test
    void aGridThatDoesNotFitIsRefusedByName() {
        var scale = arena.allocate(4 * 4, 16);
        TensorData t = new TensorData("q", DType.F8_E4M3, new long[]{64, 96}, arena.allocate(64 * 96, 16),
                new TensorData("q_scale_inv", DType.F32, new long[]{2, 2}, scale, null));
        String msg = assertThrows(ModelFormatException.class, () -> cuda.weight(t, new ScaleLayout.Block(32, 32))).getMessage();
        assertTrue(msg.contains("q_scale_inv") && msg.contains("[2, 3]"), msg);
        TensorData bf16 = new TensorData("b", DType.BF16, new long[]{64, 96}, arena.allocate(64 * 96 * 2, 16),
                new TensorData("b_scale", DType.F32, new long[]{2, 2}, scale, null));
        msg = assertThrows(IllegalArgumentException.class, () -> cuda.weight(bf16, new ScaleLayout.Block(32, 48))).getMessage();
        assertTrue(msg.contains("block scales need an FP8 dtype"), msg);
    }

    @Test
    void theFusedMoeLaunchesTheBlockExpertKernels() {
        int hidden = 64, width = 96, experts = 4;
        ExpertBank.Weights[] ws = new ExpertBank.Weights[experts];
        for (int e = 0; e < experts; e++) {
            ws[e] = new ExpertBank.Weights(blockWeight("e" + e + ".w1", DType.F8_E4M3, width, hidden, BLOCK),
                    blockWeight("e" + e + ".w2", DType.F8_E4M3, hidden, width, BLOCK),
                    blockWeight("e" + e + ".w3", DType.F8_E4M3, width, hidden, BLOCK));
        }
        ExpertBank bank = new ExpertBank() {
            @Override public int layer() { return 1; }
            @Override public int experts() { return experts; }
            @Override public ExpertBank.Weights expert(int index) { return ws[index]; }
        };
        Weight gate = cuda.weight(new TensorData("gate", DType.F32, new long[]{experts, hidden}, arena.allocate(experts * hidden * 4L, 16), null));
        Buffer in = cuda.allocate(2L * hidden), dst = cuda.allocate(2L * hidden);
        int from = device.launches.size();
        cuda.moe(new MoeCall(in, 2, gate, bank, new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null));
        List<Launched> l = device.launches.subList(from, device.launches.size());
        assertEquals(List.of("matvec_f32", "moe_route", "moe_up_block_fp8", "moe_down_block_fp8", "moe_combine"),
                l.stream().map(Launched::entry).toList());
        l.forEach(CudaBackendHostTest::matchesPtx);
        List<Number> up = l.get(2).args().values();
        assertEquals(List.of(0, 32, 48), up.subList(8, 11), "e5m2, block rows, block cols");
        assertEquals(List.of(width, hidden), up.subList(12, 14));
        assertEquals(new Launch(width / 4, 4, 1, 128), l.get(2).launch());
        List<Number> down = l.get(3).args().values();
        assertEquals(List.of(0, 32, 48), down.subList(6, 9));
        assertEquals(List.of(hidden, width), down.subList(10, 12));

        ExpertBank.Weights per = new ExpertBank.Weights(cuda.weight(new TensorData("p.w1", DType.F8_E4M3,
                new long[]{width, hidden}, arena.allocate((long) width * hidden, 16), null)), ws[0].w2(), ws[0].w3());
        ExpertBank mixed = new ExpertBank() {
            @Override public int layer() { return 2; }
            @Override public int experts() { return experts; }
            @Override public ExpertBank.Weights expert(int index) { return index == 1 ? per : ws[index]; }
        };
        String msg = assertThrows(IllegalArgumentException.class, () -> cuda.moe(new MoeCall(in, 2, gate, mixed,
                new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(2, true)), dst, null))).getMessage();
        assertTrue(msg.contains("expert 1 of layer 2") && msg.contains("differ in dtype or scaling"), msg);
    }
}
