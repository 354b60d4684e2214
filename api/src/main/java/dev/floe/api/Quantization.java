package dev.floe.api;

import java.util.List;

/**
 * The {@code quantization_config} of a checkpoint, as far as inference needs it.
 *
 * @param method             {@code fp8}
 * @param format             {@code e4m3} or {@code e5m2}
 * @param weightScale        how scales are laid out, e.g. {@code per_output_channel} or {@code per_tensor}
 * @param modulesNotConverted module name fragments left in their original dtype
 */
public record Quantization(String method, String format, String weightScale, List<String> modulesNotConverted) {
    public Quantization {
        modulesNotConverted = List.copyOf(modulesNotConverted);
    }
}
