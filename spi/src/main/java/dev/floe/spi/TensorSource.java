package dev.floe.spi;

import dev.floe.api.TensorData;

import java.util.Set;

/** The tensors of a checkpoint by name, as an {@link ExpertStoreProvider} sees them. */
public interface TensorSource {
    /** The tensor, with its scale attached if quantised; throws naming the tensor and file if absent. */
    TensorData tensor(String name);

    boolean contains(String name);

    Set<String> names();

    /** Bytes of checkpoint mapped into memory. */
    long bytesMapped();
}
