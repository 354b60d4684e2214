package dev.floe.runtime.plan;

import dev.floe.api.InvalidRequestException;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How the planned deployment holds the weights. */
public enum WeightPrecision {
    /** As the checkpoint stores them. */
    STORED("stored"),
    /** Every float tensor in BF16 (an FP8 checkpoint dequantised, its scales dropped). */
    BF16("bf16"),
    /** Linear weights in FP8 E4M3 with one F32 scale per output row, the rest as stored: what {@code floe quantize --fp8} writes. */
    FP8("fp8");

    private final String id;

    WeightPrecision(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static WeightPrecision parse(String text) {
        for (WeightPrecision w : values()) if (w.id.equalsIgnoreCase(text)) return w;
        throw new InvalidRequestException("--weights: '" + text + "' is not one of "
                + Arrays.stream(values()).map(WeightPrecision::id).collect(Collectors.joining(", ")));
    }
}
