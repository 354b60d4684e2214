package dev.floe.runtime.model;

import dev.floe.spi.Weight;

/**
 * The dense weights of one decoder layer on the backend. Expert weights are not here: they come from the
 * {@link dev.floe.api.ExpertStore} when a token is routed to them.
 *
 * @param gate        router gate {@code [E, H]}, null on a dense layer
 * @param dense       the dense MLP of a non-MoE layer, else null
 * @param residual    arctic's residual MLP ({@code [H, H]} each), else null
 * @param residualNorm its RMSNorm weight, else null
 */
record LayerWeights(Weight inputNorm, Weight postNorm, Weight q, Weight k, Weight v, Weight o, Weight gate,
                    Mlp dense, Weight residualNorm, Mlp residual) {

    /** A SwiGLU MLP: {@code w2(silu(w1 x) * (w3 x))}. */
    record Mlp(Weight w1, Weight w2, Weight w3) {
        int width() {
            return (int) w1.rows();
        }
    }
}
