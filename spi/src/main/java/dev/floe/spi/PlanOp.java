package dev.floe.spi;

import dev.floe.api.RoutingSpec;

/**
 * One operation of a {@link Plan}. Row counts come from the {@link Step} the plan runs with; widths are fixed when the
 * plan is built. {@link #run} is the eager meaning of each operation (the SPI 2 kernels it stands for), which a
 * backend compiling a plan must reproduce and may fall back to for operations it does not fuse.
 */
public sealed interface PlanOp {
    /** Runs the operation eagerly on {@code b} for the rows of {@code step}. */
    void run(Backend b, Step step);

    /** {@code out[r] = table[token r]}. */
    record Embed(Weight table, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.embed(table, s, out); }
    }

    /** {@link Backend#rmsNorm} over the step's rows. */
    record RmsNorm(Buffer x, Weight w, float eps, int dim, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.rmsNorm(x, w, eps, s.rows(), dim, out); }
    }

    /** {@link Backend#matmul} over the step's rows. */
    record Matmul(Buffer x, Weight w, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.matmul(x, s.rows(), w, out); }
    }

    /** {@link Backend#rope(Buffer, int, Step)}. */
    record Rope(Buffer x, int heads) implements PlanOp {
        public void run(Backend b, Step s) { b.rope(x, heads, s); }
    }

    /** {@link Backend#storeKv(KvCache, int, Buffer, Buffer, Step)}. */
    record StoreKv(KvCache cache, int layer, Buffer k, Buffer v) implements PlanOp {
        public void run(Backend b, Step s) { b.storeKv(cache, layer, k, v, s); }
    }

    /** {@link Backend#attention(Buffer, KvCache, int, Step, Buffer)}. */
    record Attention(Buffer q, KvCache cache, int layer, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.attention(q, cache, layer, s, out); }
    }

    /** {@link Backend#swiglu} over {@code rows * width} elements. */
    record Swiglu(Buffer gate, Buffer up, int width, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.swiglu(gate, up, (long) s.rows() * width, out); }
    }

    /** {@link Backend#add} over {@code rows * width} elements. */
    record Add(Buffer a, Buffer bb, int width, Buffer out) implements PlanOp {
        public void run(Backend b, Step s) { b.add(a, bb, (long) s.rows() * width, out); }
    }

    /** {@link Backend#moe} routed on the device by {@code spec}. */
    record Moe(Buffer input, Weight gate, ExpertBank bank, RoutingSpec spec, Buffer dst) implements PlanOp {
        public void run(Backend b, Step s) {
            b.moe(new MoeCall(input, s.rows(), gate, bank, new MoeRouting.OnDevice(spec), dst, null));
        }
    }
}
