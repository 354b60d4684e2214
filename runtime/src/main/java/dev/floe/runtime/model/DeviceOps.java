package dev.floe.runtime.model;

import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Capability;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;

import java.util.Set;

/**
 * The layer graph's one way to its backend: every SPI 2 operation, run natively where the backend declares its
 * capability and through the runtime's decomposition into SPI 1 kernels where it does not, with the counts
 * {@code floe bench} reports ({@link PassCounters}). One pass at a time, like the graph.
 */
final class DeviceOps {
    /**
     * System property: run every backend through the SPI 1 decompositions (dispatch counting kept), to compare the
     * two paths on one build ({@code FLOE_JAVA_OPTS=-Dfloe.spi1-path=true floe bench}).
     */
    static final String SPI1_PATH = "floe.spi1-path";
    private final Backend b;
    private final boolean metadata, fusedMoe, plans, counted, deviceMemory, scaledRope;
    private long syncs, calls, bytes, passes, moeLayers, moeDispatches;

    DeviceOps(Backend b) {
        this(b, false);
    }

    /**
     * @param scaledRope the model's rotation rows follow a {@code rope_scaling} that SPI 1's {@code rope(theta)} kernel
     *                   cannot express: on an SPI 1 backend the rows are then applied on the host
     */
    DeviceOps(Backend b, boolean scaledRope) {
        this.b = b;
        this.scaledRope = scaledRope;
        Set<Capability> caps = new java.util.HashSet<>(dev.floe.spi.SpiVersion.effectiveCapabilities(b));
        if (Boolean.getBoolean(SPI1_PATH)) caps.removeAll(Set.of(Capability.STEP_METADATA, Capability.FUSED_MOE, Capability.PLANS));
        this.metadata = caps.contains(Capability.STEP_METADATA);
        this.fusedMoe = caps.contains(Capability.FUSED_MOE);
        // a plan's operations are SPI 2 ones: compiling one needs the others
        this.plans = caps.contains(Capability.PLANS) && metadata && fusedMoe;
        this.counted = caps.contains(Capability.DISPATCH_COUNTER);
        this.deviceMemory = caps.contains(Capability.DEVICE_MEMORY);
    }

    Backend backend() {
        return b;
    }

    /** Whether plans are compiled by the backend rather than interpreted here. */
    boolean compilesPlans() {
        return plans;
    }

    /** The pass's metadata on the backend (once per pass), or kept on the host for an SPI 1 backend. */
    Step step(StepMetadata m) {
        passes++;
        if (!metadata) return new HostStep(m);
        if (deviceMemory) bytes += m.byteSize();
        return b.step(m);
    }

    CompiledPlan compile(Plan plan) {
        return b.compile(plan);
    }

    /** Runs a compiled plan. */
    void run(CompiledPlan compiled, Plan plan, Step step) {
        calls++;
        moeLayers += plan.ops().stream().filter(op -> op instanceof PlanOp.Moe).count();
        compiled.run(step);
    }

    /** Interprets a plan, operation by operation. */
    void interpret(Plan plan, Step step, Scratch s) {
        for (PlanOp op : plan.ops()) run(op, step, s);
    }

    /** Runs one operation: natively when the backend offers it, else as SPI 1 kernels. */
    void run(PlanOp op, Step step, Scratch s) {
        if (metadata && !(op instanceof PlanOp.Moe)) {
            calls++;
            op.run(b, step);
            return;
        }
        switch (op) {
            case PlanOp.Embed e -> {
                int[] tokens = ((HostStep) step).tokens();
                hostArray(tokens.length);
                counted(() -> b.embed(e.table(), tokens, e.out()));
            }
            case PlanOp.Rope r -> {
                HostStep h = (HostStep) step;
                StepMetadata m = h.metadata();
                if (scaledRope) {
                    hostRope(r.x(), r.heads(), m);
                } else {
                    hostArray(m.rows());
                    counted(() -> b.rope(r.x(), m.rows(), r.heads(), m.headDim(), h.positions(), m.ropeTheta()));
                }
            }
            case PlanOp.StoreKv kv -> {
                HostStep h = (HostStep) step;
                hostArray(h.rows());
                counted(() -> b.storeKv(kv.cache(), kv.layer(), kv.k(), kv.v(), h.rows(), h.slots()));
            }
            case PlanOp.Attention a -> {
                HostStep h = (HostStep) step;
                hostArray(3L * h.rows());
                counted(() -> b.attention(a.q(), a.cache(), a.layer(), h.attention(), a.out()));
            }
            case PlanOp.Moe m -> moe(new MoeCall(m.input(), step.rows(), m.gate(), m.bank(),
                    new MoeRouting.OnDevice(m.spec()), m.dst(), null), s);
            default -> {
                calls++;
                op.run(b, step);
            }
        }
    }

    /**
     * Rotates {@code x} by the step's rows through the host (download, rotate-half, upload): the SPI 1 fallback for
     * a scaled RoPE, whose rows no SPI 1 kernel takes.
     */
    private void hostRope(Buffer x, int heads, StepMetadata m) {
        int rows = m.rows(), d = m.headDim(), half = d / 2, width = heads * d;
        float[] v = download(x, rows * width);
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int base = r * width + h * d;
                for (int j = 0; j < half; j++) {
                    float c = m.cos(r, j), s = m.sin(r, j), a = v[base + j], bb = v[base + j + half];
                    v[base + j] = a * c - bb * s;
                    v[base + j + half] = bb * c + a * s;
                }
            }
        }
        bytes += 4L * v.length;
        counted(() -> b.upload(v, 0, x, 0, v.length));
    }

    /** One MoE block: the backend's fused operation, or the decomposition. */
    void moe(MoeCall call, Scratch s) {
        moeLayers++;
        long before = dispatches();
        if (fusedMoe) {
            calls++;
            b.moe(call);
            if (call.trace() != null) syncs++; // the observed decision came back to the host
        } else {
            MoeDecomposition.run(this, call, s);
        }
        moeDispatches += dispatches() - before;
    }

    private long dispatches() {
        return counted ? b.dispatches() : calls;
    }

    void matmul(Buffer x, int rows, Weight w, Buffer out) {
        calls++;
        b.matmul(x, rows, w, out);
    }

    void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out) {
        calls++;
        b.rmsNorm(x, w, eps, rows, dim, out);
    }

    void gatherRows(Buffer src, int cols, int[] rows, Buffer dst) {
        hostArray(rows.length);
        counted(() -> b.gatherRows(src, cols, rows, dst));
    }

    /** Zeroes the first {@code n} floats of {@code dst}. */
    void zero(Buffer dst, int n) {
        calls++;
        bytes += deviceMemory ? 4L * n : 0;
        b.upload(new float[n], 0, dst, 0, n);
    }

    /**
     * Sums {@code n} floats of {@code buffer} over the ranks of {@code comm}, in place. Ordered after the kernels
     * before it as the communicator orders it (NCCL on the backend's stream; cpu-vector's kernels have finished).
     */
    void allReduce(dev.floe.spi.Communicator comm, Buffer buffer, long n) {
        calls++;
        comm.allReduceSum(buffer, n);
    }

    /** Copies {@code n} floats of rank {@code root}'s {@code buffer} to every rank of {@code comm}. */
    void broadcast(dev.floe.spi.Communicator comm, Buffer buffer, long n) {
        calls++;
        comm.broadcast(buffer, n, 0);
    }

    /** The first {@code n} floats of {@code src}, waiting for the backend. */
    float[] download(Buffer src, int n) {
        float[] out = new float[n];
        syncs++;
        bytes += 4L * n;
        b.download(src, 0, out, 0, n);
        return out;
    }

    /** Runs an SPI 1 kernel call, counting it. */
    void counted(Runnable kernel) {
        calls++;
        kernel.run();
    }

    /** A host array of {@code ints} 4-byte values handed to a kernel: copied across on a device backend. */
    private void hostArray(long ints) {
        if (deviceMemory) bytes += 4 * ints;
    }

    PassCounters counters() {
        return new PassCounters(syncs, dispatches(), bytes, passes, moeLayers, moeDispatches, counted);
    }
}
