package dev.floe.backend.cpu;

import dev.floe.api.DType;
import dev.floe.api.TensorData;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;

/**
 * In-cache throughput of the BF16 and FP8 matmul kernels on one thread (their compute ceiling, as opposed to
 * {@link MatvecBench}, which streams from memory). Run by hand with the class path of {@link MatvecBench} and the
 * number of weight rows (default 256 x 2048 columns) as argument.
 */
public final class KernelProbe {
    public static void main(String[] args) {
        int rows = Integer.parseInt(args.length > 0 ? args[0] : "256");
        int cols = 2048;
        Random rnd = new Random(1);
        for (DType t : new DType[]{DType.BF16, DType.F8_E4M3}) {
            MemorySegment seg = Arena.ofShared().allocate((long) rows * cols * t.bytes(), 64);
            for (long i = 0; i < seg.byteSize(); i++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (rnd.nextInt(0x70)));
            CpuWeight w = new CpuWeight(new TensorData("w", t, new long[]{rows, cols}, seg, null));
            try (WorkerPool pool = new WorkerPool(1, "probe")) {
                w.scan(pool);
            }
            float[] x = TestTensors.gaussian(rnd, cols, 1);
            float[] xp = new float[cols];
            Matmul.permute(x, 1, cols, Matmul.lanes(t), xp);
            float[] out = new float[rows];
            for (int rep = 0; rep < 5; rep++) {
                int iters = 2000;
                long t0 = System.nanoTime();
                for (int i = 0; i < iters; i++) Matmul.rows(w, xp, 1, 0, rows, out);
                double s = (System.nanoTime() - t0) * 1e-9;
                System.out.printf(Locale.ROOT, "%s %d rows: %.1f GB/s in cache%n", t, rows, seg.byteSize() * (double) iters / s / 1e9);
            }
        }
    }
}
