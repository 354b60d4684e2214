package dev.floe.runtime.plan;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one checkpoint tensor is divided over the ranks of a {@link ParallelLayout}, from its Hugging Face name (Arctic
 * and Mixtral use the same names). This follows the layout the published Arctic serving stack uses (vLLM's Arctic
 * model: column-parallel q/k/v and w1/w3, row-parallel o_proj and w2, vocabulary-parallel embedding and head,
 * replicated norms and router gate) with the experts placed whole on expert-parallel ranks.
 */
enum Placement {
    /** Every rank holds all of it: norms, the router gate. */
    REPLICATED,
    /** Rows (the vocabulary) split over tp ranks, the last rank padded: embed_tokens, lm_head. */
    VOCAB,
    /** Output rows split over tp ranks (column-parallel): q_proj, w1 and w3 of dense and residual MLPs. */
    OUTPUT_ROWS,
    /** Output rows split by KV head; with more tp ranks than KV heads each head is replicated: k_proj, v_proj. */
    KV_HEADS,
    /** Input columns split over tp ranks (row-parallel): o_proj, w2; a per-row scale is replicated. */
    INPUT_COLUMNS,
    /** Whole on the expert-parallel rank that owns the expert. */
    EXPERT;

    private static final Pattern EXPERT_NAME = Pattern.compile(".*\\.experts\\.(\\d+)\\..*");

    /** The parts of the model a per-device breakdown shows, in print order. */
    static final List<String> CATEGORIES = List.of("experts", "attention", "dense and residual MLPs",
            "embeddings and head", "router and norms");

    static Placement of(String name) {
        if (expertIndex(name) >= 0) return EXPERT;
        String scaled = dev.floe.runtime.checkpoint.Checkpoint.weightOfScale(name);
        String weight = scaled != null ? scaled : name;
        if (weight.endsWith("embed_tokens.weight") || weight.equals("lm_head.weight")) return VOCAB;
        if (weight.endsWith("self_attn.k_proj.weight") || weight.endsWith("self_attn.v_proj.weight")) return KV_HEADS;
        if (weight.endsWith("self_attn.q_proj.weight") || weight.endsWith("mlp.w1.weight") || weight.endsWith("mlp.w3.weight")) {
            return OUTPUT_ROWS;
        }
        if (weight.endsWith("self_attn.o_proj.weight") || weight.endsWith("mlp.w2.weight")) return INPUT_COLUMNS;
        return REPLICATED;
    }

    /** The part of the model a tensor belongs to, one of {@link #CATEGORIES}. */
    static String category(String name) {
        if (expertIndex(name) >= 0) return "experts";
        if (name.contains(".self_attn.")) return "attention";
        if (name.contains("mlp.")) return "dense and residual MLPs";
        if (name.contains("embed_tokens") || name.startsWith("lm_head")) return "embeddings and head";
        return "router and norms";
    }

    /** The expert a tensor belongs to, or -1. */
    static int expertIndex(String name) {
        Matcher m = EXPERT_NAME.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
