package dev.floe.runtime.model;

import dev.floe.api.RoutingDecision;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.ExpertBank;
import dev.floe.spi.ExpertRows;
import dev.floe.spi.MoeCall;
import dev.floe.spi.MoeRouting;
import dev.floe.spi.Weight;

import java.util.Arrays;

/**
 * The MoE block in SPI 1 kernels, for a backend without {@link dev.floe.spi.Capability#FUSED_MOE}: router logits come
 * to the host, are routed there, and each chosen expert runs as gather, three matmuls, SwiGLU and a weighted
 * scatter-add, experts in ascending index (the order {@link MoeCall} prescribes).
 */
final class MoeDecomposition {
    private MoeDecomposition() {
    }

    /** The logits of a call's rows, {@code [rows][experts]}, downloaded from the backend. */
    static float[][] logits(DeviceOps ops, Buffer input, int t, Weight gate, Buffer scratch) {
        int e = (int) gate.rows();
        ops.matmul(input, t, gate, scratch);
        float[] flat = ops.download(scratch, t * e);
        float[][] logits = new float[t][];
        for (int r = 0; r < t; r++) logits[r] = Arrays.copyOfRange(flat, r * e, (r + 1) * e);
        return logits;
    }

    /** Runs {@code call} with SPI 1 kernels, using the scratch buffers of {@code s}. */
    static void run(DeviceOps ops, MoeCall call, Scratch s) {
        RoutingDecision decision = switch (call.routing()) {
            case MoeRouting.Decided d -> d.decision();
            case MoeRouting.OnDevice d -> {
                float[][] logits = logits(ops, call.input(), call.rows(), call.gate(), s.router);
                RoutingDecision routed = d.spec().route(logits);
                if (call.trace() != null) call.trace().record(logits, routed);
                yield routed;
            }
        };
        experts(ops, call.input(), call.bank(), decision, call.dst(), s);
    }

    /** Adds each chosen expert's output, times its weight, into {@code dst}. */
    static void experts(DeviceOps ops, Buffer in, ExpertBank bank, RoutingDecision decision, Buffer dst, Scratch s) {
        Backend b = ops.backend();
        for (ExpertRows g : ExpertRows.of(decision, bank.experts())) {
            int x = g.expert(), n = g.rows().length;
            int[] rows = g.rows();
            float[] scales = g.weights();
            ExpertBank.Weights m = bank.expert(x);
            int hidden = (int) m.w1().cols();
            ops.counted(() -> b.gatherRows(in, hidden, rows, s.expertIn));
            ops.matmul(s.expertIn, n, m.w1(), s.expertA);
            ops.matmul(s.expertIn, n, m.w3(), s.expertB);
            ops.counted(() -> b.swiglu(s.expertA, s.expertB, (long) n * m.width(), s.expertA));
            ops.matmul(s.expertA, n, m.w2(), s.expertOut);
            ops.counted(() -> b.scatterAddRows(s.expertOut, hidden, rows, scales, dst));
        }
    }
}
