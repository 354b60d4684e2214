package dev.floe.runtime.model;

import dev.floe.api.Expert;
import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/** Expert weights placed on the backend on first use, from the model's {@link ExpertStore}. */
final class ExpertCache {
    private final ModelConfig config;
    private final ExpertStore store;
    private final WeightPlacer placer;
    private final ConcurrentHashMap<Long, LayerWeights.Mlp> placed = new ConcurrentHashMap<>();

    ExpertCache(ModelConfig config, ExpertStore store, WeightPlacer placer) {
        this.config = config;
        this.store = store;
        this.placer = placer;
    }

    LayerWeights.Mlp get(int layer, int expert) {
        return placed.computeIfAbsent(((long) layer << 32) | expert, k -> {
            Expert e = store.expert(layer, expert);
            long h = config.hiddenSize(), i = config.intermediateSize();
            return new LayerWeights.Mlp(place(e.w1(), i, h), place(e.w2(), h, i), place(e.w3(), i, h));
        });
    }

    private dev.floe.spi.Weight place(TensorData t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException("tensor " + t.name() + " from expert store " + store.name() + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return placer.place(t);
    }

    int placedExperts() {
        return placed.size();
    }
}
