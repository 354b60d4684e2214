package dev.floe.runtime.model;

import dev.floe.api.Expert;
import dev.floe.api.ExpertStore;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.ExpertBank;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/** Expert weights placed on the backend on first use, from the model's {@link ExpertStore}. */
final class ExpertCache {
    private final ModelConfig config;
    private final ExpertStore store;
    private final WeightPlacer placer;
    private final ConcurrentHashMap<Long, ExpertBank.Weights> placed = new ConcurrentHashMap<>();

    ExpertCache(ModelConfig config, ExpertStore store, WeightPlacer placer) {
        this.config = config;
        this.store = store;
        this.placer = placer;
    }

    ExpertBank.Weights get(int layer, int expert) {
        if (expert < 0 || expert >= config.numExperts()) {
            throw new IllegalArgumentException("expert " + expert + " of layer " + layer + " is outside [0, " + config.numExperts() + ")");
        }
        return placed.computeIfAbsent(((long) layer << 32) | expert, k -> {
            Expert e = store.expert(layer, expert);
            long h = config.hiddenSize(), i = config.intermediateSize();
            return new ExpertBank.Weights(place(e.w1(), i, h), place(e.w2(), h, i), place(e.w3(), i, h));
        });
    }

    /** The experts of {@code layer} as the fused MoE operation reads them. */
    ExpertBank bank(int layer) {
        return new ExpertBank() {
            @Override
            public int layer() {
                return layer;
            }

            @Override
            public int experts() {
                return config.numExperts();
            }

            @Override
            public Weights expert(int index) {
                return get(layer, index);
            }
        };
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
