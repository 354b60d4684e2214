package dev.floe.backend.cuda;

import dev.floe.api.RoutingSpec;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.PaddedChoices;
import dev.floe.spi.ScaleLayout;
import jcuda.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * The MoE block ({@link dev.floe.spi.Backend#moe}) as five launches in stream order, with nothing coming back to the
 * host unless a {@link dev.floe.spi.MoeTrace} asks: the router logits (the gate matmul), {@code moe_route} writing
 * each row's expert ids and weights to device memory, {@code moe_up} ({@code silu(w1 x) * (w3 x)} of every (row,
 * choice) pair, the expert's weights looked up in a device pointer table), {@code moe_down} ({@code w2}) and
 * {@code moe_combine} (the weighted sum into {@code dst} in ascending expert order). A host decision
 * ({@link MoeRouting.Decided}) skips the first two: its ids and weights are staged instead.
 *
 * <p>Routing on the device does not know which experts it will choose, so every expert of the bank is placed and
 * put in the table; a host decision places only the chosen ones.
 */
final class CudaMoe {
    /** {@code mode} of {@code moe_route}: ROUTE_SOFTMAX, ROUTE_SOFTMAX_RENORM, ROUTE_SIGMOID in moe.cu. */
    static final int SOFTMAX = 0, SOFTMAX_RENORM = 1, SIGMOID = 2;

    private CudaMoe() {
    }

    /** One expert's weights on the device; formats and scale strides must agree across the bank. */
    private record Placed(CudaWeight w1, CudaWeight w2, CudaWeight w3) {
    }

    static void run(CudaBackend b, MoeCall call) {
        int rows = call.rows();
        ExpertBank bank = call.bank();
        int experts = bank.experts();
        Checks.positive("bank.experts", experts);
        long input = b.buffer("input", call.input()).address();
        long dst = b.buffer("dst", call.dst()).address();
        if (rows == 0) return;
        List<Long> scratch = new ArrayList<>();
        try {
            int k;
            long ids, weights;
            Placed[] placed = new Placed[experts];
            switch (call.routing()) {
                case MoeRouting.OnDevice d -> {
                    k = Math.min(d.spec().k(), experts);
                    if (k > Launch.ROUTER_MAX_K) {
                        throw new IllegalArgumentException("moe: k=" + k + " exceeds the routing kernel's " + Launch.ROUTER_MAX_K);
                    }
                    for (int x = 0; x < experts; x++) placed[x] = place(b, bank, x);
                }
                case MoeRouting.Decided d -> {
                    k = 0;
                    for (int[] row : d.decision().experts()) k = Math.max(k, row.length);
                    for (int r = 0; r < rows; r++) {
                        for (int x : d.decision().experts()[r]) {
                            if (x < 0 || x >= experts) {
                                throw new IllegalArgumentException("routing: row " + r + " goes to expert " + x
                                        + ", outside [0, " + experts + ")");
                            }
                            if (placed[x] == null) placed[x] = place(b, bank, x);
                        }
                    }
                }
            }
            Placed first = null;
            for (Placed p : placed) if (p != null && first == null) first = p;
            if (k == 0 || first == null) return;
            int hidden = Checks.toInt("w1.cols", first.w1().cols()), width = Checks.toInt("w1.rows", first.w1().rows());
            for (int x = 0; x < experts; x++) if (placed[x] != null) agree(bank, x, placed[x], first);
            Checks.fits("input", call.input(), (long) rows * hidden);
            Checks.fits("dst", call.dst(), (long) rows * hidden);
            long pairs = (long) rows * k;
            if (pairs > Launch.MOE_MAX_PAIRS) {
                throw new IllegalArgumentException("moe: rows=" + rows + " x k=" + k + " exceeds " + Launch.MOE_MAX_PAIRS
                        + " (row, expert) pairs per call");
            }
            long table = b.stage(table(placed));
            scratch.add(table);
            switch (call.routing()) {
                case MoeRouting.OnDevice d -> {
                    CudaWeight gate = b.weight("gate", call.gate());
                    if (gate.rows() != experts || gate.cols() != hidden) {
                        throw new IllegalArgumentException("gate: " + gate.name() + " is " + gate.rows() + "x" + gate.cols()
                                + ", the bank has " + experts + " experts of hidden width " + hidden);
                    }
                    long logits = take(b, scratch, pairsBytes(rows, experts));
                    ids = take(b, scratch, 4 * pairs);
                    weights = take(b, scratch, 4 * pairs);
                    b.matmul(input, rows, gate, logits);
                    long bias = 0;
                    if (d.spec() instanceof RoutingSpec.SigmoidTopK s) {
                        if (s.bias().length != experts) {
                            throw new IllegalArgumentException("sigmoid-topk: a bias of " + s.bias().length + " for "
                                    + experts + " experts");
                        }
                        bias = b.stage(doubleBits(s.bias()));
                        scratch.add(bias);
                    }
                    b.launch(Kernel.MOE_ROUTE, null, Launch.router(rows), new KernelArgs().ptr(logits).i32(rows)
                            .i32(experts).i32(k).i32(mode(d.spec())).ptr(bias).ptr(ids).ptr(weights));
                    if (call.trace() != null) trace(b, call, logits, ids, weights, rows, experts, k);
                }
                case MoeRouting.Decided d -> {
                    PaddedChoices choices = PaddedChoices.of(d.decision());
                    ids = b.stage(choices.ids());
                    scratch.add(ids);
                    weights = b.stage(choices.weights());
                    scratch.add(weights);
                }
            }
            long e = (long) experts * 8;
            long h = take(b, scratch, 4 * pairs * width), y = take(b, scratch, 4 * pairs * hidden);
            if (first.w1().block() != null) {
                ScaleLayout.Block up = first.w1().block(), down = first.w2().block();
                b.launch(Kernel.MOE_UP_BLOCK, null, Launch.moeExperts(width, (int) pairs), new KernelArgs()
                        .ptr(input).i32(rows).i32(k).ptr(ids).ptr(table).ptr(table + e).ptr(table + 2 * e).ptr(table + 3 * e)
                        .i32(CudaBackend.e5m2(first.w1())).i32(up.rows()).i32(up.cols()).ptr(h).i32(width).i32(hidden));
                b.launch(Kernel.MOE_DOWN_BLOCK, null, Launch.moeExperts(hidden, (int) pairs), new KernelArgs()
                        .ptr(h).i32(rows).i32(k).ptr(ids).ptr(table + 4 * e).ptr(table + 5 * e)
                        .i32(CudaBackend.e5m2(first.w2())).i32(down.rows()).i32(down.cols()).ptr(y).i32(hidden).i32(width));
            } else {
                b.launch(Kernel.MOE_UP, first.w1().format(), Launch.moeExperts(width, (int) pairs), new KernelArgs()
                        .ptr(input).i32(rows).i32(k).ptr(ids).ptr(table).ptr(table + e).ptr(table + 2 * e).ptr(table + 3 * e)
                        .i32(first.w1().scaleStride()).ptr(h).i32(width).i32(hidden));
                b.launch(Kernel.MOE_DOWN, first.w2().format(), Launch.moeExperts(hidden, (int) pairs), new KernelArgs()
                        .ptr(h).i32(rows).i32(k).ptr(ids).ptr(table + 4 * e).ptr(table + 5 * e)
                        .i32(first.w2().scaleStride()).ptr(y).i32(hidden).i32(width));
            }
            b.launch(Kernel.MOE_COMBINE, null, Launch.elements((long) rows * hidden), new KernelArgs()
                    .ptr(y).i32(rows).i32(k).ptr(ids).ptr(weights).i32(hidden).ptr(dst));
        } finally {
            // in stream order: whatever reuses a block next runs after these kernels
            for (long a : scratch) b.releaseScratch(a);
        }
    }

    static int mode(RoutingSpec spec) {
        return switch (spec) {
            case RoutingSpec.SoftmaxTopK s -> s.renormalize() ? SOFTMAX_RENORM : SOFTMAX;
            case RoutingSpec.SigmoidTopK s -> SIGMOID;
        };
    }

    private static Placed place(CudaBackend b, ExpertBank bank, int x) {
        ExpertBank.Weights w = bank.expert(x);
        String name = "expert " + x + " of layer " + bank.layer();
        Placed p = new Placed(b.weight(name + " w1", w.w1()), b.weight(name + " w2", w.w2()), b.weight(name + " w3", w.w3()));
        b.reads(p.w1());
        b.reads(p.w2());
        b.reads(p.w3());
        return p;
    }

    /** The kernels read every expert with one format and scale convention per projection, as the first's. */
    private static void agree(ExpertBank bank, int x, Placed p, Placed first) {
        CudaWeight w1 = p.w1(), w2 = p.w2(), w3 = p.w3();
        String name = "expert " + x + " of layer " + bank.layer();
        if (w3.rows() != w1.rows() || w3.cols() != w1.cols() || w2.cols() != w1.rows() || w2.rows() != w1.cols()
                || w1.rows() != first.w1().rows() || w1.cols() != first.w1().cols()) {
            throw new IllegalArgumentException(name + ": w1 " + w1.rows() + "x" + w1.cols() + ", w3 " + w3.rows() + "x"
                    + w3.cols() + ", w2 " + w2.rows() + "x" + w2.cols() + " do not form the bank's SwiGLU MLP");
        }
        if (w1.format() != first.w1().format() || w3.format() != first.w1().format() || w2.format() != first.w2().format()
                || w1.scaleStride() != first.w1().scaleStride() || w3.scaleStride() != first.w1().scaleStride()
                || w2.scaleStride() != first.w2().scaleStride() || !java.util.Objects.equals(w1.block(), first.w1().block())
                || !java.util.Objects.equals(w3.block(), first.w1().block()) || !java.util.Objects.equals(w2.block(), first.w2().block())
                || (first.w1().block() == null) != (first.w2().block() == null)) {
            throw new IllegalArgumentException(name + ": weights " + w1.dtype() + "/" + w3.dtype() + "/" + w2.dtype()
                    + " differ in dtype or scaling from the bank's first expert (" + first.w1().dtype() + "/"
                    + first.w2().dtype() + "); the fused MoE reads one format per projection");
        }
    }

    /**
     * The pointer tables, as int pairs (little-endian 64-bit addresses; 0 for an unplaced expert or no scale):
     * w1, s1, w3, s3, w2, s2, {@code experts} entries each.
     */
    static int[] table(Placed[] placed) {
        int n = placed.length;
        long[] t = new long[6 * n];
        for (int x = 0; x < n; x++) {
            Placed p = placed[x];
            if (p == null) continue;
            t[x] = p.w1().data();
            t[n + x] = p.w1().scale();
            t[2 * n + x] = p.w3().data();
            t[3 * n + x] = p.w3().scale();
            t[4 * n + x] = p.w2().data();
            t[5 * n + x] = p.w2().scale();
        }
        return longBits(t);
    }

    static int[] longBits(long[] values) {
        int[] out = new int[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            out[2 * i] = (int) values[i];
            out[2 * i + 1] = (int) (values[i] >>> 32);
        }
        return out;
    }

    static int[] doubleBits(double[] values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) bits[i] = Double.doubleToRawLongBits(values[i]);
        return longBits(bits);
    }

    /** The only device-to-host copies of the operation: someone observes routing. */
    private static void trace(CudaBackend b, MoeCall call, long logits, long ids, long weights, int rows, int experts, int k) {
        Device ctx = b.context();
        float[] flat = new float[rows * experts];
        int[] flatIds = new int[rows * k];
        float[] flatWeights = new float[rows * k];
        ctx.download(logits, 0, Pointer.to(flat), 4L * flat.length);
        ctx.download(ids, 0, Pointer.to(flatIds), 4L * flatIds.length);
        ctx.download(weights, 0, Pointer.to(flatWeights), 4L * flatWeights.length);
        call.trace().record(rows, flat, flatIds, flatWeights);
    }

    private static long pairsBytes(int rows, int experts) {
        return 4L * rows * experts;
    }

    private static long take(CudaBackend b, List<Long> scratch, long bytes) {
        long a = b.scratch(Math.max(4, bytes));
        scratch.add(a);
        return a;
    }
}
