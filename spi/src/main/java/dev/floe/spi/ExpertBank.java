package dev.floe.spi;

/**
 * The experts of one MoE layer, placed on a backend, as the fused MoE operation ({@link Backend#moe}) reads them.
 * The runtime implements it over its expert cache: {@link #expert} places an expert on first use (outside the
 * forward pass's lock) and may evict experts that have not been used for a while. Thread-safe.
 */
public interface ExpertBank {
    /** The decoder layer. */
    int layer();

    /** Experts in the layer. */
    int experts();

    /** The weights of expert {@code index}, placed on the backend the call runs on. */
    Weights expert(int index);

    /**
     * The SwiGLU weights of one expert: {@code w2(silu(w1 x) * (w3 x))}; {@code w1} and {@code w3} are
     * {@code [intermediate, hidden]}, {@code w2} is {@code [hidden, intermediate]}.
     */
    record Weights(Weight w1, Weight w2, Weight w3) {
        public Weights {
            if (w1 == null || w2 == null || w3 == null) throw new IllegalArgumentException("expert weights: a weight is null");
        }

        /** The intermediate width. */
        public int width() {
            return (int) w1.rows();
        }
    }
}
