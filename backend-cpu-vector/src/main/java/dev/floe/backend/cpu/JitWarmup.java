package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every kernel on small inputs for a while so that C2 compiles them before real work arrives. Until then the
 * Vector API runs boxed, tens of times slower, and on a two-core machine the compiler threads compete with the
 * kernels, so a short benchmark would otherwise measure the JIT. Opt-in through {@code cpu-vector.warmup} (seconds).
 */
final class JitWarmup {
    private static final int ROWS = 64, COLS = 256;

    private JitWarmup() {
    }

    static void run(Backend b, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        // shared: the kernels' worker threads read these weights too
        try (Arena arena = Arena.ofShared()) {
            List<Weight> weights = new ArrayList<>();
            for (DType t : new DType[]{DType.BF16, DType.F8_E4M3, DType.F8_E5M2, DType.F16, DType.F32}) {
                MemorySegment data = arena.allocate((long) ROWS * COLS * t.bytes(), 64);
                for (long i = 0; i < data.byteSize(); i++) data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 7 % 61));
                weights.add(b.weight(new TensorData("warmup." + t, t, new long[]{ROWS, COLS}, data, null)));
            }
            MemorySegment normData = arena.allocate(4L * COLS, 64);
            Weight norm = b.weight(new TensorData("warmup.norm", DType.F32, new long[]{COLS}, normData, null));
            KvLayout layout = new KvLayout(1, 2, 64, 4, 16);
            // every GEMM micro-kernel: full row blocks from minRows on, then a last block of each narrower width
            int full = (Gemm.minRows + Gemm.XR - 1) / Gemm.XR * Gemm.XR;
            int[] gemm = java.util.stream.IntStream.range(0, Gemm.XR / Matmul.VL).map(v -> full + v * Matmul.VL).toArray();
            int gemmRows = gemm[gemm.length - 1];
            try (Buffer x = b.allocate((long) gemmRows * COLS); Buffer y = b.allocate(Math.max(4L * COLS, (long) gemmRows * ROWS));
                 KvCache cache = b.kvCache(layout)) {
                float[] ones = new float[gemmRows * COLS];
                java.util.Arrays.fill(ones, 0.5f);
                b.upload(ones, 0, x, 0, ones.length);
                int[] table = {0, 1, 2, 3};
                int pos = 0;
                while (System.nanoTime() < deadline) {
                    for (Weight w : weights) {
                        b.matmul(x, 1, w, y);
                        b.matmul(x, 4, w, y);
                        for (int rows : gemm) b.matmul(x, rows, w, y);
                    }
                    b.rmsNorm(x, norm, 1e-5f, 4, COLS, y);
                    b.rope(y, 1, 2, 128, new int[]{pos}, 10000f);
                    b.storeKv(cache, 0, y, y, 1, new int[]{pos});
                    // one row, then twelve: 4 query heads per KV head, enough rows for the grouped kernels
                    b.attention(y, cache, 0, AttentionBatch.single(8, new int[]{pos}, table), x);
                    int[] twelve = new int[12];
                    java.util.Arrays.fill(twelve, pos);
                    b.attention(y, cache, 0, AttentionBatch.single(8, twelve, table), x);
                    b.swiglu(x, y, COLS, y);
                    b.add(x, y, COLS, x);
                    b.scatterAddRows(y, COLS, new int[]{0}, new float[]{0.5f}, x);
                    b.upload(ones, 0, x, 0, ones.length);
                    pos = (pos + 1) % (int) layout.slots();
                }
            }
            for (Weight w : weights) w.close();
            norm.close();
        }
    }
}
