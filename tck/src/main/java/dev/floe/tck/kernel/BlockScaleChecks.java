package dev.floe.tck.kernel;

import dev.floe.api.DType;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.SpiVersion;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.oracle.Oracle;
import dev.floe.tck.oracle.OracleWeight;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.floe.tck.kernel.Inputs.download;
import static dev.floe.tck.kernel.Inputs.gaussian;
import static dev.floe.tck.kernel.Inputs.upload;

/**
 * Matmul over FP8 weights with a grid of block scales ({@link ScaleLayout.Block}, DeepSeek-V3's
 * {@code weight_scale_inv}), placed through {@link Backend#weight(dev.floe.api.TensorData, ScaleLayout)}, against the
 * float64 oracle. Shapes cover whole grids, ragged last blocks in either dimension, a block larger than the weight,
 * 128x128 blocks, and batches of 1 to 40 rows (so a backend's matrix-vector and matrix-matrix paths are both met).
 * Each block's scale differs by up to a factor of 2^15 from its neighbours, so a scale taken from the wrong block
 * shows. Skipped, with the reason, for a backend without {@link Capability#WEIGHTS_BLOCK_SCALES}: the runtime then
 * dequantises such weights on the host.
 */
final class BlockScaleChecks {
    /** rows, in, out, block rows, block cols. */
    private static final int[][] SHAPES = {
            {1, 64, 64, 32, 32}, {3, 64, 64, 48, 48}, {2, 96, 64, 32, 48}, {5, 131, 67, 16, 32}, {1, 1, 1, 128, 128},
            {4, 300, 260, 128, 128}, {1, 512, 256, 128, 128}, {40, 200, 72, 32, 64}, {33, 130, 130, 128, 128}};

    private BlockScaleChecks() {
    }

    static List<Check> all() {
        List<Check> checks = new ArrayList<>();
        for (DType dtype : new DType[]{DType.F8_E4M3, DType.F8_E5M2}) {
            for (int[] s : SHAPES) {
                if (dtype == DType.F8_E5M2 && s[4] != 128) continue;
                String name = "kernel.matmul." + KernelChecks.label(dtype) + ".block-" + s[3] + "x" + s[4] + "."
                        + s[0] + "x" + s[1] + "->" + s[2];
                checks.add(new Check(KernelChecks.CATEGORY, name, ctx -> matmul(ctx, name, dtype, s)));
            }
        }
        return checks;
    }

    /** Skips unless the backend implements {@link Capability#WEIGHTS_BLOCK_SCALES}. */
    static void requireBlockScales(Backend b) {
        if (!SpiVersion.effectiveCapabilities(b).contains(Capability.WEIGHTS_BLOCK_SCALES)) {
            throw new Check.Skip("the backend does not declare " + Capability.WEIGHTS_BLOCK_SCALES.id()
                    + ": the runtime dequantises block-scaled weights on the host");
        }
    }

    /** Random finite FP8 codes with a grid of block scales spread over 2^-12 .. 2^3. */
    static OracleWeight weight(SplittableRandom random, String name, DType dtype, int rows, int cols, ScaleLayout.Block block) {
        OracleWeight plain = Inputs.weight(random, name, dtype, rows, cols, Inputs.Scaling.NONE);
        float[] scales = new float[(int) (block.gridRows(rows) * block.gridCols(cols))];
        for (int i = 0; i < scales.length; i++) scales[i] = (float) Math.scalb(0.5 + random.nextDouble(), random.nextInt(-12, 3));
        return new OracleWeight(name, dtype, rows, cols, plain.data(), scales, block);
    }

    private static Measurement matmul(TckContext ctx, String name, DType dtype, int[] s) {
        KernelChecks.requireDtype(ctx, dtype);
        Backend b = ctx.backend();
        requireBlockScales(b);
        SplittableRandom random = ctx.random(name);
        int rows = s[0], in = s[1], out = s[2];
        ScaleLayout.Block block = new ScaleLayout.Block(s[3], s[4]);
        OracleWeight w = weight(random, "tck.block.weight", dtype, out, in, block);
        float[] x = gaussian(random, rows * in, 1);
        try (Weight dw = b.weight(w.tensor(false), block); Buffer bx = upload(b, x); Buffer bo = b.allocate((long) rows * out)) {
            b.matmul(bx, rows, dw, bo);
            float[] ours = download(b, bo, rows * out);
            Compare.Error e = Compare.conditioned(ours, Oracle.matmul(x, rows, w), Oracle.matmulMagnitude(x, rows, w));
            return Measurement.ofError(e.value(), Tolerances.matmul(dtype), e.where(Compare.Layout.of("row", rows, "out", out)));
        }
    }
}
