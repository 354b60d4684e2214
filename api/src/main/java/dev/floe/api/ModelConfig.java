package dev.floe.api;

import java.util.List;

/**
 * What a model computes, read from {@code config.json} (spec section 2) and validated. Instances are always valid:
 * the canonical constructor rejects impossible values with a message naming the field.
 *
 * @param family               arctic or mixtral
 * @param vocabSize            rows of the embedding and the head
 * @param hiddenSize           model width H
 * @param intermediateSize     width of each expert's (and a dense layer's) MLP
 * @param numLayers            decoder layers L
 * @param numHeads             query heads
 * @param numKvHeads           key/value heads (GQA)
 * @param headDim              width of one head
 * @param numExperts           experts per MoE layer E
 * @param topK                 experts chosen per token k
 * @param moeLayerFrequency    layer i is MoE iff {@code (i + 1) % freq == 0} (arctic; 1 for mixtral)
 * @param parallelResidual     arctic's residual dense MLP beside the MoE ({@code parallel_attn_mlp_res})
 * @param ropeTheta            RoPE base
 * @param rmsNormEps           RMSNorm epsilon
 * @param maxPositions         the context the model serves: {@code max_position_embeddings}, stretched by
 *                             {@link RopeScaling#contextLength} (linear and dynamic scaling multiply it by their factor)
 * @param tieWordEmbeddings    the head shares the embedding matrix
 * @param bosTokenId           begin-of-sequence id, or -1
 * @param eosTokenIds          end-of-sequence ids (may be empty)
 * @param torchDtype           storage dtype named by the config, informational
 * @param quantization         the quantisation config, or null
 * @param ropeScaling          {@code rope_scaling} / {@code rope_parameters}, {@link RopeScaling#NONE} when absent
 */
public record ModelConfig(ModelFamily family, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                          int numHeads, int numKvHeads, int headDim, int numExperts, int topK, int moeLayerFrequency,
                          boolean parallelResidual, double ropeTheta, double rmsNormEps, int maxPositions,
                          boolean tieWordEmbeddings, int bosTokenId, List<Integer> eosTokenIds, String torchDtype,
                          Quantization quantization, RopeScaling ropeScaling) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (ropeScaling == null) ropeScaling = RopeScaling.NONE;
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("num_local_experts", numExperts);
        positive("num_experts_per_tok", topK);
        positive("moe_layer_frequency", moeLayerFrequency);
        positive("max_position_embeddings", maxPositions);
        if (numHeads % numKvHeads != 0) {
            throw new ModelFormatException("config: num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException("config: head_dim " + headDim + " must be even for rotary embeddings");
        }
        if (topK > numExperts) {
            throw new ModelFormatException("config: num_experts_per_tok " + topK + " exceeds num_local_experts " + numExperts);
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new ModelFormatException("config: rope_theta " + ropeTheta + " must be a positive finite number");
        }
        if (!(rmsNormEps > 0) || rmsNormEps >= 1) {
            throw new ModelFormatException("config: rms_norm_eps " + rmsNormEps + " must be in (0, 1)");
        }
        if (bosTokenId >= vocabSize) {
            throw new ModelFormatException("config: bos_token_id " + bosTokenId + " is outside vocab_size " + vocabSize);
        }
        for (int eos : eosTokenIds) {
            if (eos < 0 || eos >= vocabSize) {
                throw new ModelFormatException("config: eos_token_id " + eos + " is outside vocab_size " + vocabSize);
            }
        }
    }

    /** A config without RoPE scaling (the constructor before {@code ropeScaling} was added). */
    public ModelConfig(ModelFamily family, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, int numExperts, int topK, int moeLayerFrequency,
                       boolean parallelResidual, double ropeTheta, double rmsNormEps, int maxPositions,
                       boolean tieWordEmbeddings, int bosTokenId, List<Integer> eosTokenIds, String torchDtype,
                       Quantization quantization) {
        this(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, numExperts, topK,
                moeLayerFrequency, parallelResidual, ropeTheta, rmsNormEps, maxPositions, tieWordEmbeddings, bosTokenId,
                eosTokenIds, torchDtype, quantization, RopeScaling.NONE);
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new ModelFormatException("config: " + field + " must be positive, got " + value);
    }

    /** Whether layer {@code layer} has a routed MoE block (otherwise a dense MLP). */
    public boolean isMoeLayer(int layer) {
        return family == ModelFamily.MIXTRAL || (layer + 1) % moeLayerFrequency == 0;
    }

    /** Whether layer {@code layer} uses arctic's parallel wiring with the residual MLP (spec section 3). */
    public boolean hasResidualMlp(int layer) {
        return family == ModelFamily.ARCTIC && parallelResidual && isMoeLayer(layer);
    }

    /** Whether the top-k router weights are renormalised to sum to one (Mixtral always, Arctic when k > 1). */
    public boolean renormalizeTopK() {
        return family == ModelFamily.MIXTRAL || topK > 1;
    }

    /** Query heads that share one KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Whether {@code id} ends generation. */
    public boolean isEos(int id) {
        return eosTokenIds.contains(id);
    }

    /** Parameters of the whole model (all experts). */
    public long parameterCount() {
        long h = hiddenSize, i = intermediateSize;
        long attention = h * headDim * (2L * numHeads + 2L * numKvHeads);
        long total = vocabSize * h * (tieWordEmbeddings ? 1 : 2) + h;
        for (int l = 0; l < numLayers; l++) {
            total += attention + 2 * h;
            if (isMoeLayer(l)) {
                total += numExperts * h + numExperts * 3 * h * i;
                if (hasResidualMlp(l)) total += 3 * h * h + h;
            } else {
                total += 3 * h * i;
            }
        }
        return total;
    }

    /** Parameters read to decode one token (the k routed experts only). */
    public long activeParameterCount() {
        long h = hiddenSize, i = intermediateSize;
        long attention = h * headDim * (2L * numHeads + 2L * numKvHeads);
        long total = vocabSize * h + h + h;
        for (int l = 0; l < numLayers; l++) {
            total += attention + 2 * h;
            if (isMoeLayer(l)) {
                total += numExperts * h + topK * 3 * h * i;
                if (hasResidualMlp(l)) total += 3 * h * h + h;
            } else {
                total += 3 * h * i;
            }
        }
        return total;
    }
}
