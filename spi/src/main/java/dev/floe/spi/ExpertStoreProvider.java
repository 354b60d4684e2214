package dev.floe.spi;

import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;

/** Makes {@link ExpertStore}s; found by {@link #name()} through {@link java.util.ServiceLoader}. */
public interface ExpertStoreProvider {
    String name();

    /** A one-line description for help texts. */
    String description();

    /** Opens a store over the checkpoint's expert tensors. */
    ExpertStore open(ModelConfig config, TensorSource tensors);
}
