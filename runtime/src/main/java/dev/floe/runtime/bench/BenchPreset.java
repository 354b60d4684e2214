package dev.floe.runtime.bench;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;

import java.util.List;

/**
 * Benchmark geometries offered by name (see PEERS.md): an Arctic layer structure (attention, residual dense MLP,
 * routed experts on every layer) at a chosen size.
 */
public record BenchPreset(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int experts,
                          int expertWidth, int topK, int vocab, String description) {

    public static final List<BenchPreset> ALL = List.of(
            new BenchPreset("peer-cpu", 8, 2048, 16, 4, 128, 16, 1408, 2, 32000,
                    "the CPU peer geometry of PEERS.md (llama.cpp and PyTorch figures on the development machine)"),
            new BenchPreset("arctic-1gpu", 35, 7168, 56, 8, 128, 8, 4864, 2, 32000,
                    "Arctic's real layer geometry with 8 instead of 128 experts, to fit one GPU"),
            new BenchPreset("small", 4, 512, 8, 2, 64, 8, 512, 2, 4096,
                    "a quick smoke-test geometry that fits in cache"));

    public static BenchPreset named(String name) {
        return ALL.stream().filter(p -> p.name.equals(name)).findFirst().orElseThrow(() -> new InvalidRequestException(
                "unknown preset '" + name + "' (known: " + ALL.stream().map(BenchPreset::name).toList() + ")"));
    }

    /** The model config of this geometry: arctic, MoE and residual MLP on every layer, context 4096. */
    public ModelConfig config() {
        return new ModelConfig(ModelFamily.ARCTIC, vocab, hidden, expertWidth, layers, heads, kvHeads, headDim, experts, topK,
                1, true, 10000, 1e-5, 4096, false, 1, List.of(2), "bfloat16", null);
    }
}
