package dev.floe.api;

/**
 * The SwiGLU weights of one expert: {@code Expert(v) = w2(silu(w1 v) * (w3 v))}.
 *
 * @param layer decoder layer
 * @param index expert index in the layer
 */
public record Expert(int layer, int index, TensorData w1, TensorData w2, TensorData w3) {
    /** Bytes of all three weights, scales included. */
    public long byteSize() {
        return w1.byteSize() + w2.byteSize() + w3.byteSize();
    }
}
