package dev.floe.api;

import java.nio.file.Path;
import java.util.List;

/** The implementation behind {@link Floe}: the runtime module provides one through {@link java.util.ServiceLoader}. */
public interface Engine {
    /** Loads a model folder ({@code config.json}, safetensors, {@code tokenizer.json}). */
    Model load(Path modelDir, ModelOptions options);

    /** Every backend provider on the module path with its probe result. */
    List<BackendStatus> backends();

    /** The folder of the built-in model. */
    Path builtInModel();
}
