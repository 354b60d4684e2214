package dev.floe.api;

import java.util.List;

/**
 * The {@code quantization_config} of a checkpoint, as far as inference needs it.
 *
 * @param method             {@code fp8} or {@code compressed-tensors}
 * @param format             {@code e4m3} or {@code e5m2}
 * @param weightScale        how scales are laid out: {@code per_tensor}, {@code per_output_channel} or {@code block}
 * @param modulesNotConverted module name fragments (or compressed-tensors {@code re:} patterns) left in their original dtype
 * @param weightBlockSize    {@code [rows, cols]} of a scale block ({@code weight_block_size}, compressed-tensors
 *                           {@code block_structure}), or empty when scales are not blocked
 */
public record Quantization(String method, String format, String weightScale, List<String> modulesNotConverted,
                           List<Integer> weightBlockSize) {
    public Quantization {
        modulesNotConverted = List.copyOf(modulesNotConverted);
        weightBlockSize = List.copyOf(weightBlockSize);
        if (!weightBlockSize.isEmpty() && (weightBlockSize.size() != 2 || weightBlockSize.stream().anyMatch(n -> n < 1))) {
            throw new ModelFormatException("quantization_config: weight block size " + weightBlockSize
                    + " is not two positive integers");
        }
    }

    /** A quantization without block scales (the form before block scales were supported). */
    public Quantization(String method, String format, String weightScale, List<String> modulesNotConverted) {
        this(method, format, weightScale, modulesNotConverted, List.of());
    }

    /** Whether the weights carry a grid of block scales. */
    public boolean blockScaled() {
        return !weightBlockSize.isEmpty();
    }
}
