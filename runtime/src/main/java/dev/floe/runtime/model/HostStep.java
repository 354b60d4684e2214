package dev.floe.runtime.model;

import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

/**
 * A step kept on the host, for a backend without {@link dev.floe.spi.Capability#STEP_METADATA}: the SPI 1 kernels get
 * its arrays, and its attention description is built once for every layer.
 */
final class HostStep implements Step {
    private final StepMetadata metadata;
    private final int[] tokens, positions, slots;
    private final AttentionBatch attention;

    HostStep(StepMetadata metadata) {
        this.metadata = metadata;
        this.tokens = metadata.tokens();
        this.positions = metadata.positions();
        this.slots = metadata.slots();
        this.attention = metadata.attentionBatch();
    }

    @Override
    public StepMetadata metadata() {
        return metadata;
    }

    int[] tokens() {
        return tokens;
    }

    int[] positions() {
        return positions;
    }

    int[] slots() {
        return slots;
    }

    AttentionBatch attention() {
        return attention;
    }

    @Override
    public void close() {
        // nothing was placed on the backend
    }
}
