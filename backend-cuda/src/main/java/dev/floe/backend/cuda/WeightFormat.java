package dev.floe.backend.cuda;

import dev.floe.api.DType;

/**
 * The weight element formats the kernels read natively. The ordinal order matches the {@code DT_*} constants of
 * {@code common.cuh}; {@link #suffix} names the kernel variant ({@code matvec_bf16}, ...).
 */
enum WeightFormat {
    F32("f32", 4), F16("f16", 2), BF16("bf16", 2), E4M3("e4m3", 1), E5M2("e5m2", 1);

    private final String suffix;
    private final int bytes;

    WeightFormat(String suffix, int bytes) {
        this.suffix = suffix;
        this.bytes = bytes;
    }

    String suffix() {
        return suffix;
    }

    int bytes() {
        return bytes;
    }

    /** The format of a float dtype; integer dtypes are not weights. */
    static WeightFormat of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case F8_E4M3 -> E4M3;
            case F8_E5M2 -> E5M2;
            case I64, I32 -> throw new IllegalArgumentException("dtype " + dtype + " is not a weight format");
        };
    }
}
