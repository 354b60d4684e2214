package dev.floe.backend.opencl;

import dev.floe.api.DType;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.ExpertRows;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.PaddedChoices;
import dev.floe.spi.Weight;
import org.lwjgl.system.MemoryStack;

import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;

/**
 * The MoE block ({@link dev.floe.spi.Backend#moe}) as at most three kernels in queue order, with nothing read back
 * unless a {@link dev.floe.spi.MoeTrace} asks (moe.cl): {@code moe_route} (the gate matmul and the routing rule, ids
 * and weights into device memory), {@code moe_up} and {@code moe_down} (which also adds the weighted outputs into
 * {@code dst}). A host decision ({@link MoeRouting.Decided}) skips the first: its ids and weights travel through the
 * parameter ring without stalling the queue.
 *
 * <p>OpenCL 1.2 has no pointers in memory, so a kernel cannot look an expert's weight up in a table of addresses:
 * each layer's experts are copied once into a packed bank per projection ({@link ExpertPack}), device to device on the
 * queue, and a kernel reads expert {@code e} at {@code e * stride}. An expert whose weights the runtime replaced (its
 * cache evicted and placed it again) is copied again. The price is a second copy of the experts in device memory.
 * Experts that cannot share one packed format (mixed dtypes or scalings in a bank) run through {@link #decompose}:
 * routing on the host and the SPI 1 kernels, as the runtime would.
 */
final class ClMoe {
    /** {@code MOE_MAX_K} in moe.cl: the most experts per row the routing kernel keeps. */
    static final int MAX_K = 32;
    /** {@code mode} of {@code moe_route}: MOE_SOFTMAX, MOE_SOFTMAX_RENORM, MOE_SIGMOID in moe.cl. */
    private static final int SOFTMAX = 0, SOFTMAX_RENORM = 1, SIGMOID = 2;
    /** {@code CL_DEVICE_DOUBLE_FP_CONFIG} (OpenCL 1.2): non-zero when the device computes in float64. */
    private static final int CL_DEVICE_DOUBLE_FP_CONFIG = 0x1032;

    private final OpenClBackend b;
    /** Whether moe.cl's {@code moe_real} is double (the bias then travels as float64). */
    private final boolean fp64;
    private final Map<Integer, ExpertPack> packs = new HashMap<>();
    private final Scratch logits, ids, weights, hidden;

    ClMoe(OpenClBackend b) {
        this.b = b;
        this.fp64 = hasFp64(b.clDevice().id());
        this.logits = new Scratch(b, "moe router logits");
        this.ids = new Scratch(b, "moe expert ids");
        this.weights = new Scratch(b, "moe routing weights");
        this.hidden = new Scratch(b, "moe expert activations");
    }

    void run(MoeCall call) {
        int rows = call.rows();
        ExpertBank bank = call.bank();
        int experts = bank.experts();
        if (experts < 1) throw new IllegalArgumentException("moe: bank of layer " + bank.layer() + " has " + experts + " experts");
        ClBuffer in = b.buffer(call.input(), "input");
        ClBuffer dst = b.buffer(call.dst(), "dst");
        if (rows == 0) return;
        int k;
        Expert[] chosen = new Expert[experts];
        switch (call.routing()) {
            case MoeRouting.OnDevice d -> {
                k = Math.min(d.spec().k(), experts);
                if (k > MAX_K) throw new IllegalArgumentException("moe: k = " + k + " exceeds the routing kernel's " + MAX_K);
                // the device chooses: every expert may be read
                for (int x = 0; x < experts; x++) chosen[x] = expert(bank, x);
            }
            case MoeRouting.Decided d -> {
                k = 0;
                for (int[] row : d.decision().experts()) k = Math.max(k, row.length);
                for (ExpertRows g : ExpertRows.of(d.decision(), experts)) chosen[g.expert()] = expert(bank, g.expert());
            }
        }
        Expert first = null;
        for (Expert e : chosen) if (e != null && first == null) first = e;
        if (k == 0 || first == null) return;
        Format format = Format.of(first);
        long h = format.w1.cols, width = format.w1.rows;
        b.buffer(call.input(), "input", rows * h, "rows x hidden");
        b.buffer(call.dst(), "dst", rows * h, "rows x hidden");
        for (Expert e : chosen) {
            if (e != null && (!format.fusable() || !format.equals(Format.of(e)) || !e.packable())) {
                decompose(call, chosen);
                return;
            }
        }
        ExpertPack pack = pack(bank.layer(), experts, format);
        for (int x = 0; x < experts; x++) if (chosen[x] != null) pack.hold(x, chosen[x]);

        long pairs = (long) rows * k;
        long idsMem, idsOff, weightsMem, weightsOff;
        switch (call.routing()) {
            case MoeRouting.OnDevice d -> {
                ClWeight gate = b.weight(call.gate(), "gate");
                if (gate.rows() != experts || gate.cols() != h) {
                    throw new IllegalArgumentException("moe: gate " + gate.name() + " is " + gate.rows() + "x" + gate.cols()
                            + ", the bank of layer " + bank.layer() + " has " + experts + " experts of hidden width " + h);
                }
                long logitsMem = logits.get((long) rows * experts * Float.BYTES);
                idsMem = ids.get(pairs * Integer.BYTES);
                weightsMem = weights.get(pairs * Float.BYTES);
                idsOff = 0;
                weightsOff = 0;
                long bias = bias(d.spec(), experts, logitsMem);
                Launch l = b.launch("moe_route_" + gate.kernelSuffix());
                l.mem(in.mem()).mem(gate.data()).mem(gate.scale()).i(gate.scaleStride()).l(h).i(experts).i(k)
                        .i(mode(d.spec())).mem(bias).mem(logitsMem).mem(idsMem).mem(weightsMem)
                        .local((long) l.localSize() * Float.BYTES).runGroups(rows, 1);
                if (call.trace() != null) trace(call, logitsMem, idsMem, weightsMem, rows, experts, k);
            }
            case MoeRouting.Decided d -> {
                PaddedChoices choices = PaddedChoices.of(d.decision());
                ParamRing.Slice i = b.params().ints(choices.ids(), choices.ids().length);
                ParamRing.Slice w = b.params().floats(choices.weights(), 0, choices.weights().length);
                idsMem = i.mem();
                idsOff = i.offset();
                weightsMem = w.mem();
                weightsOff = w.offset();
            }
        }
        long act = hidden.get(pairs * width * Float.BYTES);
        Launch up = b.launch("moe_up_" + format.w1.suffix);
        up.mem(in.mem()).i(k).mem(idsMem).l(idsOff).mem(pack.w1.data).mem(pack.w1.scales).mem(pack.w3.data)
                .mem(pack.w3.scales).l(pack.w1.stride).i(format.w1.scaleCount()).i(format.w1.scaleStride).l(h).l(width)
                .mem(act).local((long) up.localSize() * Float.BYTES).runGroups(width, pairs);
        Launch down = b.launch("moe_down_" + format.w2.suffix);
        down.mem(act).i(k).mem(idsMem).l(idsOff).mem(weightsMem).l(weightsOff).mem(pack.w2.data).mem(pack.w2.scales)
                .l(pack.w2.stride).i(format.w2.scaleCount()).i(format.w2.scaleStride).l(width).l(h).mem(dst.mem())
                .local((long) down.localSize() * Float.BYTES).runGroups(h, rows);
    }

    /** Forgets the packed banks (the backend frees their memory when it closes). */
    void close() {
        for (ExpertPack p : packs.values()) p.close();
        packs.clear();
        biases.close();
    }

    private Expert expert(ExpertBank bank, int x) {
        ExpertBank.Weights w = bank.expert(x);
        String name = "expert " + x + " of layer " + bank.layer();
        return new Expert(b.weight(w.w1(), name + " w1"), b.weight(w.w2(), name + " w2"), b.weight(w.w3(), name + " w3"));
    }

    /** The layer's packed bank in {@code format}, made (again) when the layer had none or another format. */
    private ExpertPack pack(int layer, int experts, Format format) {
        ExpertPack p = packs.get(layer);
        if (p != null && p.experts() == experts && p.format.equals(format)) return p;
        if (p != null) p.close();
        p = new ExpertPack(b, layer, experts, format);
        packs.put(layer, p);
        return p;
    }

    /** The sigmoid rule's bias in {@code moe_real} (a one-element dummy for the softmax rules). */
    private long bias(RoutingSpec spec, int experts, long unused) {
        if (!(spec instanceof RoutingSpec.SigmoidTopK s)) return unused;
        if (s.bias().length != experts) {
            throw new IllegalArgumentException("moe: sigmoid-topk has a bias of " + s.bias().length + " for " + experts + " experts");
        }
        // a kernel argument cannot take a ring offset without another parameter: the bias gets its own small object
        int[] bits = new int[fp64 ? 2 * experts : experts];
        for (int e = 0; e < experts; e++) {
            if (fp64) {
                long v = Double.doubleToRawLongBits(s.bias(e));
                bits[2 * e] = (int) v;
                bits[2 * e + 1] = (int) (v >>> 32);
            } else {
                bits[e] = Float.floatToRawIntBits((float) s.bias(e));
            }
        }
        return biases.get(bits);
    }

    private final BiasCache biases = new BiasCache();

    /** The last few bias vectors on the device: a router's bias changes rarely, so a decode step copies nothing. */
    private final class BiasCache {
        private int[] bits;
        private long mem;

        long get(int[] wanted) {
            if (mem != 0 && java.util.Arrays.equals(bits, wanted)) return mem;
            if (mem != 0) clReleaseMemObject(mem);   // deferred by OpenCL until queued kernels are done with it
            int[] err = new int[1];
            mem = clCreateBuffer(b.context(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, wanted, err);
            ClErrors.check(err[0], "clCreateBuffer(sigmoid-topk bias)");
            bits = wanted.clone();
            return mem;
        }

        void close() {
            if (mem != 0) clReleaseMemObject(mem);
            mem = 0;
            bits = null;
        }
    }

    static int mode(RoutingSpec spec) {
        return switch (spec) {
            case RoutingSpec.SoftmaxTopK s -> s.renormalize() ? SOFTMAX_RENORM : SOFTMAX;
            case RoutingSpec.SigmoidTopK s -> SIGMOID;
        };
    }

    /** The only reads of the operation: someone observes routing. */
    private void trace(MoeCall call, long logitsMem, long idsMem, long weightsMem, int rows, int experts, int k) {
        call.trace().record(rows, floats(b.read(logitsMem, rows * experts)), b.read(idsMem, rows * k),
                floats(b.read(weightsMem, rows * k)));
    }

    private static float[] floats(int[] bits) {
        float[] f = new float[bits.length];
        for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(bits[i]);
        return f;
    }

    /**
     * The MoE block in SPI 1 kernels for experts that cannot share a packed bank: the router logits come back, the
     * host routes, each chosen expert runs as gather, three matmuls, SwiGLU and a weighted scatter-add.
     */
    private void decompose(MoeCall call, Expert[] chosen) {
        int rows = call.rows(), experts = chosen.length;
        RoutingDecision decision = switch (call.routing()) {
            case MoeRouting.Decided d -> d.decision();
            case MoeRouting.OnDevice d -> {
                float[][] l = new float[rows][experts];
                try (Buffer out = b.allocate((long) rows * experts)) {
                    b.matmul(call.input(), rows, call.gate(), out);
                    float[] flat = new float[rows * experts];
                    b.download(out, 0, flat, 0, flat.length);
                    for (int r = 0; r < rows; r++) System.arraycopy(flat, r * experts, l[r], 0, experts);
                }
                RoutingDecision routed = d.spec().route(l);
                if (call.trace() != null) call.trace().record(l, routed);
                yield routed;
            }
        };
        for (ExpertRows g : ExpertRows.of(decision, experts)) {
            Expert e = chosen[g.expert()];
            int n = g.rows().length;
            int h = (int) e.w1.cols(), width = (int) e.w1.rows();
            try (Buffer x = b.allocate((long) n * h); Buffer a = b.allocate((long) n * width);
                 Buffer u = b.allocate((long) n * width); Buffer o = b.allocate((long) n * h)) {
                b.gatherRows(call.input(), h, g.rows(), x);
                b.matmul(x, n, e.w1, a);
                b.matmul(x, n, e.w3, u);
                b.swiglu(a, u, (long) n * width, a);
                b.matmul(a, n, e.w2, o);
                b.scatterAddRows(o, h, g.rows(), g.weights(), call.dst());
            }
        }
    }

    private static boolean hasFp64(long device) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer config = stack.mallocLong(1);
            return clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, config, null) == CL_SUCCESS && config.get(0) != 0;
        }
    }

    /** One expert's three weights on this backend. */
    record Expert(ClWeight w1, ClWeight w2, ClWeight w3) {
        /** The kernels read per-row or scalar scales; any other scale layout (block grids) is decomposed. */
        boolean packable() {
            // block-scaled experts keep their scale grid: only matmul reads it, so they take the decomposition
            if (w1.block() != null || w2.block() != null || w3.block() != null) return false;
            return Layout.of(w1).plain(w1) && Layout.of(w2).plain(w2) && Layout.of(w3).plain(w3);
        }
    }

    /** How the kernels read one projection of every expert: dtype, shape and scaling. */
    record Layout(DType dtype, String suffix, long rows, long cols, int scaleStride) {
        static Layout of(ClWeight w) {
            return new Layout(w.dtype(), w.kernelSuffix(), w.rows(), w.cols(), w.scaleStride());
        }

        long dataBytes() {
            return rows * cols * dtype.bytes();
        }

        int scaleCount() {
            return scaleStride == 0 ? 1 : Math.toIntExact(rows);
        }

        /** Whether {@code w} holds exactly this layout's scales (one per row, or one), nothing else. */
        boolean plain(ClWeight w) {
            long dataHeld = (dataBytes() + Float.BYTES - 1) / Float.BYTES * Float.BYTES;
            return w.bytes() == dataHeld + (long) scaleCount() * Float.BYTES;
        }
    }

    /** The layouts of a bank's three projections; every expert of a fused call must have the same. */
    record Format(Layout w1, Layout w2, Layout w3) {
        static Format of(Expert e) {
            return new Format(Layout.of(e.w1), Layout.of(e.w2), Layout.of(e.w3));
        }

        Format {
            if (w3.rows() != w1.rows() || w3.cols() != w1.cols() || w2.rows() != w1.cols() || w2.cols() != w1.rows()) {
                throw new IllegalArgumentException("moe: expert weights w1 " + w1.rows() + "x" + w1.cols() + " " + w1.dtype()
                        + ", w3 " + w3.rows() + "x" + w3.cols() + " " + w3.dtype() + ", w2 " + w2.rows() + "x" + w2.cols()
                        + " do not form a SwiGLU MLP");
            }
        }

        /** {@code moe_up} reads w1 and w3 with one kernel: they must share dtype and scaling. */
        boolean fusable() {
            return w1.equals(w3);
        }
    }

    /** A grown-on-demand device scratch object, reused by every call (the in-order queue orders the reuse). */
    private static final class Scratch {
        private final OpenClBackend b;
        private final String what;
        private ClBuffer buffer;

        Scratch(OpenClBackend b, String what) {
            this.b = b;
            this.what = what;
        }

        long get(long bytes) {
            if (buffer == null || buffer.bytes() < bytes) {
                if (buffer != null) buffer.close();
                buffer = b.deviceBuffer(Math.max(bytes, 64), what);
            }
            return buffer.mem();
        }
    }
}
