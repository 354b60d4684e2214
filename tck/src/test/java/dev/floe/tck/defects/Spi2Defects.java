package dev.floe.tck.defects;

import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingSpec;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.KvCache;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.Plan;
import dev.floe.spi.PlanOp;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;
import dev.floe.spi.Weight;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** SPI 2 backends with one planted defect each, wrapping the real cpu-vector backend. */
final class Spi2Defects {
    private Spi2Defects() {
    }

    /** Forwards the SPI 2 operations too; each defect overrides one. */
    static class Forwarding extends ForwardingBackend {
        Forwarding(Backend d) {
            super(d);
        }

        @Override public Step step(StepMetadata m) { return delegate.step(m); }
        @Override public void embed(Weight table, Step step, Buffer out) { delegate.embed(table, step, out); }
        @Override public void rope(Buffer x, int heads, Step step) { delegate.rope(x, heads, step); }
        @Override public void storeKv(KvCache c, int layer, Buffer k, Buffer v, Step step) { delegate.storeKv(c, layer, k, v, step); }
        @Override public void attention(Buffer q, KvCache c, int layer, Step step, Buffer out) { delegate.attention(q, c, layer, step, out); }
        @Override public void moe(MoeCall call) { delegate.moe(call); }
        @Override public CompiledPlan compile(Plan plan) { return delegate.compile(plan); }
        @Override public long dispatches() { return delegate.dispatches(); }
        @Override public Weight weight(dev.floe.api.TensorData t, dev.floe.spi.ScaleLayout layout) { return delegate.weight(t, layout); }
    }

    /** Device routing that forgets to renormalise the top-k weights. */
    static final class MoeWithoutRenormalisation extends Forwarding {
        MoeWithoutRenormalisation(Backend d) {
            super(d);
        }

        @Override
        public void moe(MoeCall c) {
            if (c.routing() instanceof MoeRouting.OnDevice(RoutingSpec.SoftmaxTopK s) && s.renormalize()) {
                c = new MoeCall(c.input(), c.rows(), c.gate(), c.bank(),
                        new MoeRouting.OnDevice(new RoutingSpec.SoftmaxTopK(s.k(), false)), c.dst(), c.trace());
            }
            super.moe(c);
        }
    }

    /** Device routing that breaks ties towards the higher expert index. */
    static final class TiesToHigherIndex extends Forwarding {
        TiesToHigherIndex(Backend d) {
            super(d);
        }

        @Override
        public void moe(MoeCall c) {
            if (!(c.routing() instanceof MoeRouting.OnDevice(RoutingSpec spec))) {
                super.moe(c);
                return;
            }
            int e = (int) c.gate().rows(), t = c.rows();
            float[] flat = new float[t * e];
            try (Buffer logits = allocate((long) t * e)) {
                matmul(c.input(), t, c.gate(), logits);
                download(logits, 0, flat, 0, flat.length);
            }
            float[][] rows = new float[t][], reversed = new float[t][];
            for (int r = 0; r < t; r++) {
                rows[r] = Arrays.copyOfRange(flat, r * e, (r + 1) * e);
                reversed[r] = new float[e];
                for (int x = 0; x < e; x++) reversed[r][x] = rows[r][e - 1 - x];
            }
            RoutingSpec mirrored = spec instanceof RoutingSpec.SigmoidTopK s ? new RoutingSpec.SigmoidTopK(s.k(), reverse(s.bias())) : spec;
            RoutingDecision d = mirrored.route(reversed);
            int[][] experts = new int[t][];
            for (int r = 0; r < t; r++) experts[r] = Arrays.stream(d.experts()[r]).map(x -> e - 1 - x).toArray();
            RoutingDecision back = new RoutingDecision(experts, d.weights());
            if (c.trace() != null) c.trace().record(rows, back);
            super.moe(new MoeCall(c.input(), t, c.gate(), c.bank(), new MoeRouting.Decided(back), c.dst(), null));
        }

        private static double[] reverse(double[] b) {
            double[] r = new double[b.length];
            for (int i = 0; i < b.length; i++) r[i] = b[b.length - 1 - i];
            return r;
        }
    }

    /** A compiled plan that drops the last residual addition of the pass. */
    static final class ReplayDropsAnOp extends Forwarding {
        ReplayDropsAnOp(Backend d) {
            super(d);
        }

        @Override
        public CompiledPlan compile(Plan plan) {
            List<PlanOp> ops = new ArrayList<>(plan.ops());
            for (int i = ops.size() - 1; i >= 0; i--) {
                if (ops.get(i) instanceof PlanOp.Add) {
                    ops.remove(i);
                    break;
                }
            }
            return super.compile(new Plan(ops));
        }
    }

    /** Keeps the first step's metadata and hands it out for every later pass. */
    static final class StaleStep extends Forwarding {
        private StepMetadata first;

        StaleStep(Backend d) {
            super(d);
        }

        @Override
        public Step step(StepMetadata m) {
            if (first == null) first = m;
            return super.step(first);
        }
    }
}
