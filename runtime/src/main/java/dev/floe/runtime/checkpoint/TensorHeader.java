package dev.floe.runtime.checkpoint;

import dev.floe.api.DType;

import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it: dtype, shape and where its bytes lie in the data section
 * ({@code [begin, end)}). Validated by {@link SafetensorsHeader}: {@code end - begin} is exactly the bytes the shape
 * needs.
 */
public record TensorHeader(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorHeader {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Elements of the tensor. */
    public long numel() {
        return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    /** Bytes of the tensor's data. */
    public long bytes() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorHeader t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
