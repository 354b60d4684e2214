package dev.floe.runtime.experts;

import dev.floe.api.Expert;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.RequiredTensor;
import dev.floe.spi.ExpertStoreProvider;
import dev.floe.spi.TensorSource;

/** Shared checks of the expert stores, and their providers. */
public final class ExpertStores {
    private ExpertStores() {
    }

    static void checkIndex(ModelConfig c, int layer, int index) {
        if (layer < 0 || layer >= c.numLayers() || !c.isMoeLayer(layer)) {
            throw new InvalidRequestException("layer " + layer + " is not a MoE layer of this model");
        }
        if (index < 0 || index >= c.numExperts()) {
            throw new InvalidRequestException("expert " + index + " is outside [0, " + c.numExperts() + ")");
        }
    }

    /** Reads one expert's tensors, checking that they exist. Shapes are checked by {@link #checkShapes}. */
    static Expert read(TensorSource tensors, int layer, int index) {
        return new Expert(layer, index, get(tensors, ExpertNames.of(layer, index, "w1")),
                get(tensors, ExpertNames.of(layer, index, "w2")), get(tensors, ExpertNames.of(layer, index, "w3")));
    }

    private static TensorData get(TensorSource tensors, String name) {
        if (!tensors.contains(name)) throw new ModelFormatException("tensor " + name + " is missing from the checkpoint");
        return tensors.tensor(name);
    }

    /** Checks that every expert of every MoE layer exists with the right shape, without touching weight data. */
    public static void checkShapes(ModelConfig c, TensorSource tensors, String source) {
        long h = c.hiddenSize(), i = c.intermediateSize();
        for (int l = 0; l < c.numLayers(); l++) {
            if (!c.isMoeLayer(l)) continue;
            for (int e = 0; e < c.numExperts(); e++) {
                RequiredTensor.of(tensors, source, ExpertNames.of(l, e, "w1"), i, h);
                RequiredTensor.of(tensors, source, ExpertNames.of(l, e, "w2"), h, i);
                RequiredTensor.of(tensors, source, ExpertNames.of(l, e, "w3"), i, h);
            }
        }
    }

    /** Provides {@link MappedExpertStore}. */
    public static final class Mapped implements ExpertStoreProvider {
        @Override
        public String name() {
            return MappedExpertStore.NAME;
        }

        @Override
        public String description() {
            return "expert weights read from the memory-mapped checkpoint on first use (default)";
        }

        @Override
        public dev.floe.api.ExpertStore open(ModelConfig config, TensorSource tensors) {
            return new MappedExpertStore(config, tensors);
        }
    }

    /** Provides {@link MemoryExpertStore}. */
    public static final class Memory implements ExpertStoreProvider {
        @Override
        public String name() {
            return MemoryExpertStore.NAME;
        }

        @Override
        public String description() {
            return "every expert copied into memory when the model loads";
        }

        @Override
        public dev.floe.api.ExpertStore open(ModelConfig config, TensorSource tensors) {
            return new MemoryExpertStore(config, tensors);
        }
    }
}
