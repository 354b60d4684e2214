package dev.floe.tck.kernel;

import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.kernel.Inputs.Scaling;
import dev.floe.tck.oracle.Oracle;
import dev.floe.tck.oracle.OracleWeight;

import java.util.List;
import java.util.SplittableRandom;

import static dev.floe.tck.kernel.Inputs.download;
import static dev.floe.tck.kernel.Inputs.gaussian;
import static dev.floe.tck.kernel.Inputs.upload;

/**
 * Numerically hard inputs, where a kernel that is right on N(0,1) data can still break: attention scores of magnitude
 * 1e4 (a softmax without its max subtraction overflows), a sequence filling a 4096-token context with every row a
 * query, attention-sink key rotation, and RMS norms of huge, tiny and outlier rows.
 */
final class HardInputChecks {
    private HardInputChecks() {
    }

    static List<Check> all() {
        String large = "kernel.attention.large-scores.heads=4/2.head-dim=64.seqs=[37,20]";
        String full = "kernel.attention.full-context.heads=2/1.head-dim=16.seqs=[4096].all-rows";
        String sinks = "kernel.attention.sinks.heads=4/2.head-dim=32.block=8.seqs=[1,19,40]";
        return List.of(
                new Check(KernelChecks.CATEGORY, large, ctx -> KernelChecks.attention(ctx, large, 4, 2, 64, 16, new int[]{37, 20},
                        Integer.MAX_VALUE, KernelChecks.Scores.LARGE, 0f)),
                new Check(KernelChecks.CATEGORY, full, ctx -> KernelChecks.attention(ctx, full, 2, 1, 16, 16, new int[]{4096},
                        Integer.MAX_VALUE, KernelChecks.Scores.GAUSSIAN, 0f)),
                new Check(KernelChecks.CATEGORY, sinks, ctx -> KernelChecks.attention(ctx, sinks, 4, 2, 32, 8, new int[]{1, 19, 40},
                        Integer.MAX_VALUE, KernelChecks.Scores.GAUSSIAN, 10000f)),
                // 3e17: the sum of squares (4.6e37) stays below float32's largest value, so float32 accumulation is enough
                rms("kernel.rmsnorm.extreme.huge.dim=509", 509, 3e17, 0),
                // 1e-20: the mean square underflows and eps decides; eps must be inside the square root
                rms("kernel.rmsnorm.extreme.tiny.dim=131", 131, 1e-20, 0),
                // one element 1e15 among N(0,1): the row's scale comes from that element alone
                rms("kernel.rmsnorm.extreme.outlier.dim=4096", 4096, 1, 1e15),
                new Check(KernelChecks.CATEGORY, "kernel.embed.fp8-e4m3.every-code", ctx -> everyCode(ctx, DType.F8_E4M3)),
                new Check(KernelChecks.CATEGORY, "kernel.embed.fp8-e5m2.every-code", ctx -> everyCode(ctx, DType.F8_E5M2)));
    }

    /**
     * All 256 codes through the backend's embedding, row c holding code c with scale 1: each must come back as the
     * oracle decodes it (NaN codes as NaN), and a failure names every code that does not.
     */
    static Measurement everyCode(TckContext ctx, DType dtype) {
        KernelChecks.requireDtype(ctx, dtype);
        int cols = 3;
        byte[] data = new byte[256 * cols];
        for (int c = 0; c < 256; c++) java.util.Arrays.fill(data, c * cols, (c + 1) * cols, (byte) c);
        float[] ones = new float[256];
        java.util.Arrays.fill(ones, 1f);
        OracleWeight table = new OracleWeight("tck.fp8-codes", dtype, 256, cols, data, ones);
        int[] ids = java.util.stream.IntStream.range(0, 256).toArray();
        Backend b = ctx.backend();
        try (Weight w = b.weight(table.tensor(false)); Buffer out = b.allocate(256L * cols)) {
            b.embed(w, ids, out);
            float[] ours = download(b, out, 256 * cols);
            double[] ref = Oracle.embed(table, ids);
            StringBuilder wrong = new StringBuilder();
            int mismatches = 0;
            for (int c = 0; c < 256; c++) {
                for (int j = 0; j < cols; j++) {
                    double o = ours[c * cols + j], e = ref[c * cols + j];
                    boolean same = Double.isNaN(e) ? Double.isNaN(o) : Double.compare(o, e) == 0 || (o == 0 && e == 0 && (1 / o > 0) == (1 / e > 0));
                    if (!same) {
                        if (mismatches++ < 64) wrong.append(String.format(java.util.Locale.ROOT, "%s0x%02X=%s (oracle %s)", wrong.isEmpty() ? "" : ", ", c, o, e));
                        break;
                    }
                }
            }
            return Measurement.ofMismatches(mismatches, mismatches == 0 ? "256 codes decode as the oracle does"
                    : mismatches + " codes wrong: " + wrong + (mismatches > 64 ? ", ..." : ""));
        }
    }

    private static Check rms(String name, int dim, double sigma, double outlier) {
        return new Check(KernelChecks.CATEGORY, name, ctx -> rmsNorm(ctx, name, dim, sigma, outlier));
    }

    static Measurement rmsNorm(TckContext ctx, String name, int dim, double sigma, double outlier) {
        SplittableRandom random = ctx.random(name);
        int rows = 3;
        OracleWeight w = Inputs.weight(random, "tck.norm", DType.F32, 1, dim, Scaling.NONE);
        float[] x = gaussian(random, rows * dim, sigma);
        if (outlier != 0) for (int r = 0; r < rows; r++) x[r * dim + random.nextInt(dim)] = (float) (outlier * (r % 2 == 0 ? 1 : -1));
        float eps = 1e-6f;
        Backend b = ctx.backend();
        try (Weight dw = b.weight(w.tensor(true)); Buffer bx = upload(b, x); Buffer bo = b.allocate((long) rows * dim)) {
            b.rmsNorm(bx, dw, eps, rows, dim, bo);
            double[] ref = Oracle.rmsNorm(x, w, eps, rows, dim);
            // relative to the row's largest output: a tiny element next to an outlier carries no relative precision
            double[] mag = new double[ref.length];
            for (int r = 0; r < rows; r++) {
                double max = 0;
                for (int i = 0; i < dim; i++) max = Math.max(max, Math.abs(ref[r * dim + i]));
                for (int i = 0; i < dim; i++) mag[r * dim + i] = Math.abs(ref[r * dim + i]) + max * Tolerances.U;
            }
            Compare.Error e = Compare.conditioned(download(b, bo, rows * dim), ref, mag);
            return Measurement.ofError(e.value(), Tolerances.RMS_NORM, e.where(Compare.Layout.of("row", rows, "dim", dim)));
        }
    }
}
