package dev.floe.runtime.bench;

import dev.floe.api.DType;
import dev.floe.api.ModelConfig;
import dev.floe.api.TensorData;
import dev.floe.runtime.checkpoint.InMemoryTensors;
import dev.floe.runtime.checkpoint.WeightArena;
import dev.floe.runtime.experts.ExpertNames;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.LongConsumer;

/**
 * Random weights for a config, made directly in memory (a {@link WeightArena}: huge pages where allowed; speed does
 * not depend on the values), in one of the {@link WeightFormat}s: linear layers BF16, or FP8 E4M3 with per-row scales
 * (the head too in {@link WeightFormat#FP8_HEAD}); embeddings, norms and router gates BF16.
 */
public final class SyntheticWeights extends InMemoryTensors {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private long state = 0x9E3779B97F4A7C15L;

    /** Builds every tensor, reporting bytes made so far to {@code progress}. */
    public SyntheticWeights(ModelConfig c, WeightFormat format, LongConsumer progress) {
        super("synthetic model");
        boolean fp8 = format.fp8();
        try {
            long h = c.hiddenSize(), d = c.headDim(), v = c.vocabSize(), i = c.intermediateSize();
            bf16("model.embed_tokens.weight", v, h);
            ones("model.norm.weight", h);
            linear(format.fp8Head(), "lm_head.weight", v, h);
            for (int l = 0; l < c.numLayers(); l++) {
                String p = "model.layers." + l + ".";
                ones(p + "input_layernorm.weight", h);
                ones(p + "post_attention_layernorm.weight", h);
                linear(fp8, p + "self_attn.q_proj.weight", c.numHeads() * d, h);
                linear(fp8, p + "self_attn.k_proj.weight", c.numKvHeads() * d, h);
                linear(fp8, p + "self_attn.v_proj.weight", c.numKvHeads() * d, h);
                linear(fp8, p + "self_attn.o_proj.weight", h, c.numHeads() * d);
                bf16(p + "block_sparse_moe.gate.weight", c.numExperts(), h);
                ones(p + "residual_layernorm.weight", h);
                for (String w : new String[]{"w1", "w3"}) linear(fp8, p + "residual_mlp." + w + ".weight", h, h);
                linear(fp8, p + "residual_mlp.w2.weight", h, h);
                for (int e = 0; e < c.numExperts(); e++) {
                    linear(fp8, ExpertNames.of(l, e, "w1"), i, h);
                    linear(fp8, ExpertNames.of(l, e, "w3"), i, h);
                    linear(fp8, ExpertNames.of(l, e, "w2"), h, i);
                }
                progress.accept(bytesHeld());
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    private long next() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Random BF16 values of magnitude 2^-7..2^-6 with random signs and mantissas. */
    private void bf16(String name, long rows, long cols) {
        MemorySegment m = allocate(rows * cols * 2);
        for (long o = 0; o + 8 <= m.byteSize(); o += 8) m.set(LONG, o, (next() & 0x807F807F807F807FL) | 0x3C003C003C003C00L);
        put(new TensorData(name, DType.BF16, new long[]{rows, cols}, m, null));
    }

    /** Random E4M3 codes with the top exponent bit clear (so never NaN), scaled per row. */
    private void fp8(String name, long rows, long cols) {
        MemorySegment m = allocate(rows * cols);
        for (long o = 0; o + 8 <= m.byteSize(); o += 8) m.set(LONG, o, next() & 0xB7B7B7B7B7B7B7B7L);
        MemorySegment s = allocate(rows * 4);
        for (long r = 0; r < rows; r++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), r, 1f / 256);
        TensorData scale = new TensorData(name + "_scale", DType.F32, new long[]{rows, 1}, s, null);
        put(new TensorData(name, DType.F8_E4M3, new long[]{rows, cols}, m, scale));
    }

    private void linear(boolean fp8, String name, long rows, long cols) {
        if (fp8) fp8(name, rows, cols);
        else bf16(name, rows, cols);
    }

    private void ones(String name, long n) {
        MemorySegment m = allocate(n * 2);
        for (long i = 0; i < n; i++) m.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) 0x3F80);
        put(new TensorData(name, DType.BF16, new long[]{n}, m, null));
    }

    /** Bytes of weights made: what a checkpoint of this model would map. */
    @Override
    public long bytesMapped() {
        return bytesHeld();
    }
}
