package dev.floe.backend.cuda;

import dev.floe.api.DType;
import dev.floe.api.TensorData;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Probe;
import dev.floe.spi.Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Decode-path bandwidth of the matvec kernels on a GPU: weight bytes read per second at batch 1 and 8 for Arctic's
 * projection shapes, next to a device-to-device copy measured in the same run (the MBU reference of
 * {@code ../shared/device/GPU.md}). Timing is host wall time over many queued launches after a warm-up, so it
 * includes launch overhead. Run by {@code gpu-check.sh}; prints one line per case.
 */
public final class MatvecBench {
    private MatvecBench() {
    }

    public static void main(String[] args) {
        Probe probe = new CudaProvider().probe();
        if (!probe.available()) {
            System.out.println("unavailable: " + probe.detail());
            System.exit(3);
        }
        try (CudaBackend cuda = (CudaBackend) new CudaProvider().open(BackendOptions.DEFAULTS); Arena arena = Arena.ofShared()) {
            System.out.println("device: " + cuda.device());
            double copy = copyBandwidth(cuda);
            System.out.printf(Locale.ROOT, "d2d copy: %.1f GB/s (read + write)%n", copy / 1e9);
            long[][] shapes = {{7168, 7168}, {4864, 7168}, {7168, 4864}, {32000, 7168}};
            for (DType dtype : new DType[]{DType.BF16, DType.F8_E4M3, DType.F16, DType.F32}) {
                for (long[] shape : shapes) {
                    MemorySegment data = arena.allocate(shape[0] * shape[1] * dtype.bytes(), 64);
                    data.fill((byte) 0x3C);
                    TensorData t = new TensorData("bench", dtype, shape, data, null);
                    try (Weight w = cuda.weight(t)) {
                        for (int batch : new int[]{1, 8}) {
                            double bytesPerSecond = matvec(cuda, w, batch);
                            System.out.printf(Locale.ROOT, "matvec_%s %dx%d batch=%d: %.1f GB/s weights, %.1f%% of d2d copy%n",
                                    WeightFormat.of(dtype).suffix(), shape[0], shape[1], batch, bytesPerSecond / 1e9,
                                    100 * bytesPerSecond / copy);
                        }
                    }
                }
            }
        }
    }

    /** Bytes moved (read plus written) per second by cuMemcpyDtoD of 1 GiB. */
    static double copyBandwidth(CudaBackend cuda) {
        CudaContext ctx = (CudaContext) cuda.context();
        long bytes = 1L << 30;
        try (Buffer a = cuda.allocate(bytes / 4); Buffer b = cuda.allocate(bytes / 4)) {
            long src = ((CudaBuffer) a).address(), dst = ((CudaBuffer) b).address();
            ctx.copy(src, dst, bytes);
            cuda.synchronize();
            int n = 20;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) ctx.copy(src, dst, bytes);
            cuda.synchronize();
            return 2.0 * bytes * n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    static double matvec(CudaBackend cuda, Weight w, int batch) {
        try (Buffer x = cuda.allocate(batch * w.cols()); Buffer out = cuda.allocate(batch * w.rows())) {
            for (int i = 0; i < 10; i++) cuda.matmul(x, batch, w, out);
            cuda.synchronize();
            int n = 200;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) cuda.matmul(x, batch, w, out);
            cuda.synchronize();
            double seconds = (System.nanoTime() - t0) / 1e9;
            return (double) w.rows() * w.cols() * w.dtype().bytes() * n / seconds;
        }
    }
}
