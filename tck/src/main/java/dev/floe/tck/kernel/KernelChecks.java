package dev.floe.tck.kernel;

import dev.floe.api.DType;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.kernel.Inputs.Scaling;
import dev.floe.tck.oracle.Oracle;
import dev.floe.tck.oracle.OracleWeight;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static dev.floe.tck.kernel.Inputs.download;
import static dev.floe.tck.kernel.Inputs.gaussian;
import static dev.floe.tck.kernel.Inputs.upload;

/**
 * Every {@link Backend} kernel against the float64 {@link Oracle}, on seeded random and adversarial inputs: sizes of 1,
 * primes and other non-multiples of any vector width, large sizes, every GQA ratio, positions at the end of a 4096
 * context, FP8 NaN codes, subnormals and the largest finite values of each dtype.
 */
public final class KernelChecks {
    static final String CATEGORY = "kernel";
    private static final DType[] WEIGHT_DTYPES = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};
    /** rows x in -> out: 1, primes, non-multiples of 8/16/32 lanes, and one long reduction. */
    private static final int[][] MATMUL_SHAPES = {{1, 1, 1}, {3, 13, 7}, {2, 131, 33}, {7, 509, 64}, {1, 4096, 96}};

    private KernelChecks() {
    }

    /** All kernel checks, in a fixed order. */
    public static List<Check> all() {
        List<Check> checks = new ArrayList<>();
        for (DType dtype : WEIGHT_DTYPES) {
            List<Scaling> scalings = isFp8(dtype) ? List.of(Scaling.PER_ROW, Scaling.SCALAR) : List.of(Scaling.NONE);
            for (Scaling scaling : scalings) {
                for (int[] s : MATMUL_SHAPES) {
                    String name = "kernel.matmul." + label(dtype) + "." + scaling.label() + "." + s[0] + "x" + s[1] + "->" + s[2];
                    checks.add(check(name, ctx -> matmul(ctx, name, dtype, scaling, s[0], s[1], s[2])));
                }
            }
            String extremes = "kernel.matmul." + label(dtype) + ".extremes";
            checks.add(check(extremes, ctx -> matmulExtremes(ctx, extremes, dtype)));
            String embed = "kernel.embed." + label(dtype) + (isFp8(dtype) ? ".per-row" : "");
            checks.add(check(embed, ctx -> embed(ctx, embed, dtype, isFp8(dtype) ? Scaling.PER_ROW : Scaling.NONE)));
        }
        checks.addAll(BlockScaleChecks.all());
        for (DType dtype : new DType[]{DType.F8_E4M3, DType.F8_E5M2}) {
            String name = "kernel.matmul." + label(dtype) + ".nan-and-inf-codes";
            checks.add(check(name, ctx -> matmulSpecialCodes(ctx, name, dtype)));
            String scalar = "kernel.embed." + label(dtype) + ".scalar";
            checks.add(check(scalar, ctx -> embed(ctx, scalar, dtype, Scaling.SCALAR)));
        }
        for (int[] s : new int[][]{{1, 1}, {3, 7}, {2, 64}, {5, 509}, {2, 4096}}) {
            String name = "kernel.rmsnorm.rows=" + s[0] + ".dim=" + s[1];
            checks.add(check(name, ctx -> rmsNorm(ctx, name, s[0], s[1], DType.F32, false)));
        }
        String inPlace = "kernel.rmsnorm.in-place.dim=67";
        checks.add(check(inPlace, ctx -> rmsNorm(ctx, inPlace, 3, 67, DType.F32, true)));
        String bf16Norm = "kernel.rmsnorm.bf16-weight.dim=130";
        checks.add(check(bf16Norm, ctx -> rmsNorm(ctx, bf16Norm, 2, 130, DType.BF16, false)));
        for (int[] s : new int[][]{{1, 2, 10000}, {3, 64, 10000}, {8, 128, 1000000}, {5, 6, 500000}}) {
            String name = "kernel.rope.heads=" + s[0] + ".head-dim=" + s[1] + ".theta=" + s[2];
            checks.add(check(name, ctx -> rope(ctx, name, s[0], s[1], s[2])));
        }
        // heads, kvHeads, headDim, blockSize, then the lengths of the sequences
        int[][] attention = {{4, 4, 64, 16, 1, 17, 40}, {4, 2, 64, 16, 5, 33}, {8, 2, 32, 5, 1, 16, 23},
                {8, 1, 64, 16, 9, 30}, {16, 2, 128, 16, 20}, {6, 6, 24, 7, 13, 3}, {2, 1, 8, 3, 4}};
        for (int[] a : attention) {
            int[] lens = Arrays.copyOfRange(a, 4, a.length);
            String name = "kernel.attention.gqa=" + a[0] / a[1] + ".heads=" + a[0] + "/" + a[1] + ".head-dim=" + a[2]
                    + ".block=" + a[3] + ".seqs=" + Arrays.toString(lens).replace(" ", "");
            checks.add(check(name, ctx -> attention(ctx, name, a[0], a[1], a[2], a[3], lens, Integer.MAX_VALUE)));
        }
        String longContext = "kernel.attention.context-end.positions=4090..4095";
        checks.add(check(longContext, ctx -> attention(ctx, longContext, 8, 2, 64, 16, new int[]{4096, 3}, 6)));
        checks.addAll(HardInputChecks.all());
        for (int n : new int[]{1, 7, 8, 17, 1031, 65537}) {
            String sw = "kernel.swiglu.n=" + n;
            checks.add(check(sw, ctx -> swiglu(ctx, sw, n, false)));
            String add = "kernel.add.n=" + n;
            checks.add(check(add, ctx -> add(ctx, add, n, false)));
        }
        checks.add(check("kernel.swiglu.in-place.n=33", ctx -> swiglu(ctx, "kernel.swiglu.in-place.n=33", 33, true)));
        checks.add(check("kernel.add.in-place.n=33", ctx -> add(ctx, "kernel.add.in-place.n=33", 33, true)));
        for (int cols : new int[]{1, 13, 64, 1031}) {
            String gather = "kernel.gather-rows.cols=" + cols;
            checks.add(check(gather, ctx -> gather(ctx, gather, cols)));
            String scatter = "kernel.scatter-add-rows.cols=" + cols;
            checks.add(check(scatter, ctx -> scatterAdd(ctx, scatter, cols)));
        }
        checks.addAll(FormatChecks.all());
        return checks;
    }

    private static Check check(String name, Check.Body body) {
        return new Check(CATEGORY, name, body);
    }

    static boolean isFp8(DType d) {
        return d == DType.F8_E4M3 || d == DType.F8_E5M2;
    }

    static String label(DType d) {
        return switch (d) {
            case F8_E4M3 -> "fp8-e4m3";
            case F8_E5M2 -> "fp8-e5m2";
            default -> d.name().toLowerCase();
        };
    }

    /**
     * Skips when the opened backend does not declare the dtype (the runtime then hands it F32 weights). The opened
     * backend's capabilities decide, as they decide in the runtime.
     */
    static void requireDtype(TckContext ctx, DType dtype) {
        if (!ctx.backendCapabilities().contains(Capability.forWeights(dtype))) {
            throw new Check.Skip("the backend does not declare " + Capability.forWeights(dtype).id()
                    + ": the runtime dequantises " + dtype + " weights to F32 on the host");
        }
    }

    static Measurement matmul(TckContext ctx, String name, DType dtype, Scaling scaling, int rows, int in, int out) {
        requireDtype(ctx, dtype);
        SplittableRandom random = ctx.random(name);
        OracleWeight w = Inputs.weight(random, "tck.matmul.weight", dtype, out, in, scaling);
        float[] x = gaussian(random, rows * in, 1);
        return runMatmul(ctx.backend(), w, x, rows);
    }

    static Measurement runMatmul(Backend b, OracleWeight w, float[] x, int rows) {
        try (Weight dw = b.weight(w.tensor(false)); Buffer bx = upload(b, x); Buffer bo = b.allocate((long) rows * w.rows())) {
            b.matmul(bx, rows, dw, bo);
            float[] ours = download(b, bo, rows * w.rows());
            Compare.Error e = Compare.conditioned(ours, Oracle.matmul(x, rows, w), Oracle.matmulMagnitude(x, rows, w));
            return Measurement.ofError(e.value(), Tolerances.matmul(w.dtype()), e.where(Compare.Layout.of("row", rows, "out", w.rows())));
        }
    }

    /** Codes: +-max, +-smallest subnormal, smallest normal, one, +-zero; inputs small enough to stay finite. */
    static Measurement matmulExtremes(TckContext ctx, String name, DType dtype) {
        requireDtype(ctx, dtype);
        int[] codes = switch (dtype) {
            case F32 -> new int[]{0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001, 0x00800000, 0x3F800000, 0, 0x80000000};
            case BF16 -> new int[]{0x7F7F, 0xFF7F, 0x0001, 0x8001, 0x0080, 0x3F80, 0, 0x8000};
            case F16 -> new int[]{0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x0400, 0x3C00, 0, 0x8000};
            case F8_E4M3 -> new int[]{0x7E, 0xFE, 0x01, 0x81, 0x08, 0x38, 0, 0x80};
            case F8_E5M2 -> new int[]{0x7B, 0xFB, 0x01, 0x81, 0x04, 0x3C, 0, 0x80};
            default -> throw new IllegalArgumentException(dtype.toString());
        };
        SplittableRandom random = ctx.random(name);
        int rows = 3, in = 37, out = 11;
        byte[] data = new byte[out * in * dtype.bytes()];
        for (int i = 0; i < out * in; i++) Inputs.putLe(data, i * dtype.bytes(), codes[random.nextInt(codes.length)], dtype.bytes());
        OracleWeight w = new OracleWeight("tck.extremes", dtype, out, in, data,
                isFp8(dtype) ? Inputs.scales(random, out, Scaling.PER_ROW) : null);
        double sigma = dtype == DType.F32 || dtype == DType.BF16 ? 1e-12 : 1;
        return runMatmul(ctx.backend(), w, gaussian(random, rows * in, sigma), rows);
    }

    /** A NaN code in a row makes that row's outputs NaN; an E5M2 infinity makes them infinite; other rows are exact. */
    static Measurement matmulSpecialCodes(TckContext ctx, String name, DType dtype) {
        requireDtype(ctx, dtype);
        SplittableRandom random = ctx.random(name);
        int rows = 2, in = 19, out = 6;
        OracleWeight w = Inputs.weight(random, "tck.nan", dtype, out, in, Scaling.PER_ROW);
        byte[] data = w.data().clone();
        data[in + 4] = (byte) (dtype == DType.F8_E4M3 ? 0x7F : 0x7E);          // row 1: NaN
        data[3 * in + 11] = (byte) (dtype == DType.F8_E4M3 ? 0xFF : 0xFF);     // row 3: -NaN
        if (dtype == DType.F8_E5M2) data[5 * in] = (byte) 0x7C;                // row 5: +infinity
        OracleWeight special = new OracleWeight(w.name(), dtype, out, in, data, w.scale());
        float[] x = gaussian(random, rows * in, 1);
        for (int i = 0; i < x.length; i++) if (x[i] == 0) x[i] = 1; // infinity times zero would be NaN
        return runMatmul(ctx.backend(), special, x, rows);
    }

    static Measurement embed(TckContext ctx, String name, DType dtype, Scaling scaling) {
        requireDtype(ctx, dtype);
        SplittableRandom random = ctx.random(name);
        int vocab = 37, dim = 67;
        OracleWeight table = Inputs.weight(random, "tck.embed", dtype, vocab, dim, scaling);
        int[] ids = {0, vocab - 1, random.nextInt(vocab), random.nextInt(vocab), 0, 5};
        Backend b = ctx.backend();
        try (Weight w = b.weight(table.tensor(false)); Buffer out = b.allocate((long) ids.length * dim)) {
            b.embed(w, ids, out);
            float[] ours = download(b, out, ids.length * dim);
            double[] ref = Oracle.embed(table, ids);
            Compare.Error e = Compare.relative(ours, ref, 0);
            String zero = Compare.zeroSignMismatch(ours, ref);
            if (zero != null) return Measurement.ofError(Double.POSITIVE_INFINITY, Tolerances.embed(dtype), zero);
            String where = e.where(Compare.Layout.of("row", ids.length, "dim", dim));
            if (e.index() >= 0 && isFp8(dtype)) {
                int id = ids[e.index() / dim], col = e.index() % dim;
                where += String.format(java.util.Locale.ROOT, " (token %d, FP8 code 0x%02X)", id, table.code(id, col));
            }
            return Measurement.ofError(e.value(), Tolerances.embed(dtype), where);
        }
    }

    static Measurement rmsNorm(TckContext ctx, String name, int rows, int dim, DType weightType, boolean inPlace) {
        requireDtype(ctx, weightType);
        SplittableRandom random = ctx.random(name);
        OracleWeight w = Inputs.weight(random, "tck.norm", weightType, 1, dim, Scaling.NONE);
        float[] x = gaussian(random, rows * dim, 3);
        float eps = 1e-5f;
        Backend b = ctx.backend();
        try (Weight dw = b.weight(w.tensor(true)); Buffer bx = upload(b, x); Buffer bo = inPlace ? null : b.allocate((long) rows * dim)) {
            Buffer target = inPlace ? bx : bo;
            b.rmsNorm(bx, dw, eps, rows, dim, target);
            Compare.Error e = Compare.relative(download(b, target, rows * dim), Oracle.rmsNorm(x, w, eps, rows, dim), 0);
            return Measurement.ofError(e.value(), Tolerances.RMS_NORM, e.where(Compare.Layout.of("row", rows, "dim", dim)));
        }
    }

    static Measurement rope(TckContext ctx, String name, int heads, int headDim, float theta) {
        SplittableRandom random = ctx.random(name);
        int[] positions = {0, 1, 4095, 4094, random.nextInt(4096), random.nextInt(64), 2047};
        int rows = positions.length, width = heads * headDim;
        float[] x = gaussian(random, rows * width, 1);
        Backend b = ctx.backend();
        try (Buffer bx = upload(b, x)) {
            b.rope(bx, rows, heads, headDim, positions, theta);
            double[] ref = Oracle.rope(x, rows, heads, headDim, positions, theta);
            double[] mag = new double[ref.length];
            int half = headDim / 2;
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < heads; h++) {
                    int base = r * width + h * headDim;
                    for (int j = 0; j < half; j++) {
                        double m = Math.abs(x[base + j]) + Math.abs(x[base + j + half]);
                        mag[base + j] = m;
                        mag[base + j + half] = m;
                    }
                }
            }
            Compare.Error e = Compare.conditioned(download(b, bx, rows * width), ref, mag);
            return Measurement.ofError(e.value(), Tolerances.rope(4095), e.where(Compare.Layout.of("row", rows, "head", heads, "dim", headDim)));
        }
    }

    /**
     * Several sequences with shuffled physical blocks in layer 1 of a two-layer cache (layer 0 holds other data), query
     * rows of all sequences interleaved; each sequence's rows are its last {@code queriesPerSequence} positions.
     */
    static Measurement attention(TckContext ctx, String name, int heads, int kvHeads, int headDim, int blockSize,
                                 int[] lengths, int queriesPerSequence) {
        return attention(ctx, name, heads, kvHeads, headDim, blockSize, lengths, queriesPerSequence, Scores.GAUSSIAN, 0f);
    }

    /** How attention's queries and keys are drawn. */
    enum Scores {
        /** N(0,1) queries and keys: scores of order one. */
        GAUSSIAN,
        /**
         * Integer queries in [-1000, 1000] and keys in [-100, 100] with a head size of 64: scores of magnitude 1e4 that
         * float32 computes exactly in any order (every partial sum is an integer below 2^24, the scale 1/8 is exact),
         * so the float32 tolerance still holds; a softmax that does not subtract the row's maximum overflows.
         */
        LARGE
    }

    /**
     * Attention as above; {@code keyRopeTheta > 0} caches keys before RoPE and has the backend rotate the key at cache
     * index i by angle i (attention sinks), the oracle rotating them itself.
     */
    static Measurement attention(TckContext ctx, String name, int heads, int kvHeads, int headDim, int blockSize,
                                 int[] lengths, int queriesPerSequence, Scores scores, float keyRopeTheta) {
        if (keyRopeTheta > 0 && !ctx.backendCapabilities().contains(Capability.ATTENTION_SINKS)) {
            throw new Check.Skip("the backend does not declare " + Capability.ATTENTION_SINKS.id()
                    + ": attention-sink windows are refused at load");
        }
        SplittableRandom random = ctx.random(name);
        int kvWidth = kvHeads * headDim;
        int[] blocksOf = Arrays.stream(lengths).map(l -> (l + blockSize - 1) / blockSize).toArray();
        int totalBlocks = Arrays.stream(blocksOf).sum() + 2;
        int[] physical = ForwardOrder.shuffled(random, totalBlocks);
        int[][] tables = new int[lengths.length][];
        for (int s = 0, next = 0; s < lengths.length; s++) {
            tables[s] = Arrays.copyOfRange(physical, next, next + blocksOf[s]);
            next += blocksOf[s];
        }
        KvLayout layout = new KvLayout(2, kvHeads, headDim, totalBlocks, blockSize);
        float[][] keys = new float[(int) layout.slots()][kvWidth];
        float[][] values = new float[(int) layout.slots()][kvWidth];
        List<Integer> rowSeq = new ArrayList<>(), rowPos = new ArrayList<>();
        Backend b = ctx.backend();
        try (KvCache cache = b.kvCache(layout)) {
            AttentionBatch tablesOnly = new AttentionBatch(heads, new int[0], new int[0], tables);
            for (int s = 0; s < lengths.length; s++) {
                int len = lengths[s];
                int[] slots = new int[len];
                for (int p = 0; p < len; p++) slots[p] = tablesOnly.slot(s, p, blockSize);
                float[] k = scores == Scores.LARGE ? integers(random, len * kvWidth, 100) : gaussian(random, len * kvWidth, 1);
                float[] v = gaussian(random, len * kvWidth, 1);
                float[] junkK = gaussian(random, len * kvWidth, 5), junkV = gaussian(random, len * kvWidth, 5);
                // with sinks the oracle sees each key rotated by its cache index, the backend rotates it itself
                double[] rotated = keyRopeTheta > 0 ? Oracle.rope(k, len, kvHeads, headDim, IntStream.range(0, len).toArray(), keyRopeTheta) : null;
                for (int p = 0; p < len; p++) {
                    keys[slots[p]] = rotated != null ? Inputs.toFloats(Arrays.copyOfRange(rotated, p * kvWidth, (p + 1) * kvWidth))
                            : Arrays.copyOfRange(k, p * kvWidth, (p + 1) * kvWidth);
                    values[slots[p]] = Arrays.copyOfRange(v, p * kvWidth, (p + 1) * kvWidth);
                }
                try (Buffer bk = upload(b, k); Buffer bv = upload(b, v); Buffer jk = upload(b, junkK); Buffer jv = upload(b, junkV)) {
                    b.storeKv(cache, 0, jk, jv, len, slots);
                    b.storeKv(cache, 1, bk, bv, len, slots);
                }
                for (int p = Math.max(0, len - queriesPerSequence); p < len; p++) {
                    rowSeq.add(s);
                    rowPos.add(p);
                }
            }
            int[] order = ForwardOrder.shuffled(random, rowSeq.size());
            int rows = order.length;
            int[] positions = new int[rows], sequence = new int[rows];
            for (int r = 0; r < rows; r++) {
                positions[r] = rowPos.get(order[r]);
                sequence[r] = rowSeq.get(order[r]);
            }
            AttentionBatch batch = new AttentionBatch(heads, positions, sequence, tables, keyRopeTheta);
            float[] q = scores == Scores.LARGE ? integers(random, rows * heads * headDim, 1000) : gaussian(random, rows * heads * headDim, 1);
            String detail = scores == Scores.LARGE ? String.format(java.util.Locale.ROOT, ", scores up to %.3g",
                    Oracle.largestScore(q, keys, kvHeads, headDim, batch, blockSize)) : "";
            try (Buffer bq = upload(b, q); Buffer bo = b.allocate((long) rows * heads * headDim)) {
                b.attention(bq, cache, 1, batch, bo);
                double[] ref = Oracle.attention(q, keys, values, kvHeads, headDim,
                        new AttentionBatch(heads, positions, sequence, tables), blockSize);
                double maxV = 0;
                for (float[] row : values) for (float f : row) maxV = Math.max(maxV, Math.abs(f));
                double[] mag = new double[ref.length];
                Arrays.fill(mag, maxV);
                Compare.Error e = Compare.conditioned(download(b, bo, ref.length), ref, mag);
                return Measurement.ofError(e.value(), Tolerances.ATTENTION, rows + " query rows" + detail + "; "
                        + e.where(Compare.Layout.of("row", rows, "head", heads, "dim", headDim)));
            }
        }
    }

    static Measurement swiglu(TckContext ctx, String name, int n, boolean inPlace) {
        SplittableRandom random = ctx.random(name);
        float[] g = gaussian(random, n, 3), u = gaussian(random, n, 1);
        float[] edge = {0f, -0f, 88f, -88f, 100f, -100f, 20f, -20f};
        for (int i = 0; i < Math.min(n / 2, edge.length); i++) g[random.nextInt(n)] = edge[i];
        Backend b = ctx.backend();
        try (Buffer bg = upload(b, g); Buffer bu = upload(b, u); Buffer bo = inPlace ? null : b.allocate(n)) {
            Buffer target = inPlace ? bg : bo;
            b.swiglu(bg, bu, n, target);
            double[] ref = Oracle.swiglu(g, u);
            double[] mag = new double[n];
            for (int i = 0; i < n; i++) mag[i] = Math.abs(ref[i]) + Math.abs(u[i]) * 1e-7;
            Compare.Error e = Compare.conditioned(download(b, target, n), ref, mag);
            return Measurement.ofError(e.value(), Tolerances.SWIGLU, e.where());
        }
    }

    static Measurement add(TckContext ctx, String name, int n, boolean inPlace) {
        SplittableRandom random = ctx.random(name);
        float[] a = gaussian(random, n, 1), c = gaussian(random, n, 1e3);
        Backend b = ctx.backend();
        try (Buffer ba = upload(b, a); Buffer bc = upload(b, c); Buffer bo = inPlace ? null : b.allocate(n)) {
            Buffer target = inPlace ? ba : bo;
            b.add(ba, bc, n, target);
            double[] mag = new double[n];
            for (int i = 0; i < n; i++) mag[i] = Math.abs(a[i]) + Math.abs(c[i]);
            Compare.Error e = Compare.conditioned(download(b, target, n), Oracle.add(a, c), mag);
            return Measurement.ofError(e.value(), Tolerances.ADD, e.where());
        }
    }

    static Measurement gather(TckContext ctx, String name, int cols) {
        SplittableRandom random = ctx.random(name);
        int srcRows = 19;
        float[] src = gaussian(random, srcRows * cols, 1);
        int[] rows = {18, 0, 7, 7, 3, random.nextInt(srcRows)};
        Backend b = ctx.backend();
        try (Buffer bs = upload(b, src); Buffer bd = b.allocate((long) rows.length * cols)) {
            b.gatherRows(bs, cols, rows, bd);
            Compare.Error e = Compare.relative(download(b, bd, rows.length * cols), Oracle.gatherRows(src, cols, rows), 0);
            return Measurement.ofError(e.value(), Tolerances.COPY, e.where());
        }
    }

    /** Repeated destination rows, zero and negative scales: the weighted sum of expert outputs. */
    static Measurement scatterAdd(TckContext ctx, String name, int cols) {
        SplittableRandom random = ctx.random(name);
        int dstRows = 11;
        int[] rows = {3, 0, 10, 3, 3, 7, random.nextInt(dstRows)};
        float[] scales = {0.25f, -1.5f, 0f, 0.7f, 0.3f, 1f, (float) random.nextDouble()};
        float[] src = gaussian(random, rows.length * cols, 1), dst = gaussian(random, dstRows * cols, 1);
        Backend b = ctx.backend();
        try (Buffer bs = upload(b, src); Buffer bd = upload(b, dst)) {
            b.scatterAddRows(bs, cols, rows, scales, bd);
            Compare.Error e = Compare.conditioned(download(b, bd, dst.length), Oracle.scatterAddRows(src, cols, rows, scales, dst),
                    Oracle.scatterAddMagnitude(src, cols, rows, scales, dst));
            return Measurement.ofError(e.value(), Tolerances.SCATTER_ADD, e.where());
        }
    }

    /** Integers uniform in [-bound, bound], as floats. */
    static float[] integers(SplittableRandom random, int n, int bound) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = random.nextInt(2 * bound + 1) - bound;
        return x;
    }
}
