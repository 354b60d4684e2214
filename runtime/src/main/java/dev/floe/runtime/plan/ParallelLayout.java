package dev.floe.runtime.plan;

/**
 * How a model is split over devices: {@code tp}-way tensor parallel for attention (query heads and KV heads), the
 * dense and residual MLPs (column- then row-parallel) and the vocabulary-parallel embedding and head;
 * {@code ep}-way expert parallel for the routed experts (each rank holds {@code E / ep} whole experts). Both divide
 * the device count; where one is smaller than the device count its part is replicated (data-parallel attention, or
 * expert replicas).
 */
public record ParallelLayout(int tp, int ep) {
    public ParallelLayout {
        if (tp < 1) throw new IllegalArgumentException("tp must be positive, got " + tp);
        if (ep < 1) throw new IllegalArgumentException("ep must be positive, got " + ep);
    }

    @Override
    public String toString() {
        return "tp " + tp + " x ep " + ep;
    }
}
