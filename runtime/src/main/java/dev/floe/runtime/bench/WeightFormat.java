package dev.floe.runtime.bench;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How a synthetic model's weights are stored: the {@code --weights} values of {@code floe bench} and
 * {@code floe bench-serve}. Norms, the embedding and the router gates are BF16 in every format.
 */
public enum WeightFormat {
    /** Every weight BF16. */
    BF16("bf16", "bf16", false, false),
    /** Linear layers FP8 E4M3 with a scale per output row, the head BF16: the FP8 checkpoints of spec section 7. */
    FP8("fp8", "fp8-e4m3", true, false),
    /**
     * FP8 with the head quantised too ({@code floe quantize --fp8 --head}), as llama.cpp's Q8_0 GGUFs hold
     * {@code output.weight}: the same share of 8-bit bytes per token as Q8_0, so the like-for-like peer of it.
     */
    FP8_HEAD("fp8-head", "fp8-e4m3+head", true, true);

    private final String option;
    private final String label;
    private final boolean fp8;
    private final boolean fp8Head;

    WeightFormat(String option, String label, boolean fp8, boolean fp8Head) {
        this.option = option;
        this.label = label;
        this.fp8 = fp8;
        this.fp8Head = fp8Head;
    }

    /** The format an option names ({@code bf16}, {@code fp8}, {@code fp8-head}); {@code what} names the option in errors. */
    public static WeightFormat named(String name, String what) {
        for (WeightFormat f : values()) if (f.option.equals(name)) return f;
        throw new IllegalArgumentException(what + ": '" + name + "' is not one of "
                + Arrays.stream(values()).map(f -> f.option).collect(Collectors.joining(", ")));
    }

    /** The option value that names it. */
    public String option() {
        return option;
    }

    /** How results name it. */
    public String label() {
        return label;
    }

    /** Whether the layers' linear weights are FP8. */
    public boolean fp8() {
        return fp8;
    }

    /** Whether the head is FP8 too. */
    public boolean fp8Head() {
        return fp8Head;
    }
}
