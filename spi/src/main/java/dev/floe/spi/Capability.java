package dev.floe.spi;

import dev.floe.api.DType;
import dev.floe.api.TensorData;

/**
 * Optional features of a backend. The kernel set of {@link Backend} is mandatory; capabilities say which weight
 * dtypes a backend reads natively (others are dequantised to F32 by the runtime) and which extras it offers. The
 * {@link #id()} is the name shown by {@code floe backends} and in TCK reports.
 */
public enum Capability {
    /** Reads F32 weights. Every backend must. */
    WEIGHTS_F32("weights.f32"),
    /** Reads F16 weights natively. */
    WEIGHTS_F16("weights.f16"),
    /** Reads BF16 weights natively. */
    WEIGHTS_BF16("weights.bf16"),
    /** Reads FP8 E4M3 weights with their scales natively. */
    WEIGHTS_FP8_E4M3("weights.fp8-e4m3"),
    /** Reads FP8 E5M2 weights with their scales natively. */
    WEIGHTS_FP8_E5M2("weights.fp8-e5m2"),
    /**
     * Reads weights whose scale is a grid of blocks ({@link ScaleLayout.Block}, DeepSeek-V3 style
     * {@code weight_scale_inv}) natively, through {@link Backend#weight(TensorData, ScaleLayout)}, for the FP8 dtypes
     * it declares. Without it the runtime dequantises such a weight on the host to a dtype the backend reads.
     */
    WEIGHTS_BLOCK_SCALES("weights.block-scales"),
    /** Weights stay where the checkpoint is mapped: {@link Backend#weight} copies nothing. */
    ZERO_COPY_WEIGHTS("weights.zero-copy"),
    /**
     * {@link Backend#weight} and {@link Weight#close} may be called from another thread while kernels run, so the
     * runtime can place experts ahead of time on a background thread.
     */
    CONCURRENT_WEIGHTS("weights.concurrent"),
    /** Runs kernels on several threads. */
    MULTI_THREADED("threads.multi"),
    /** Memory separate from the host: activations are copied across. */
    DEVICE_MEMORY("memory.device"),
    /** Collectives through a {@link Communicator}. */
    COLLECTIVES("comm.collectives"),
    /**
     * Attention over keys cached before RoPE, rotated by their index in the cache at attention time
     * ({@link AttentionBatch#keyRopeTheta()} &gt; 0), as attention-sink (StreamingLLM) windows need.
     */
    ATTENTION_SINKS("attention.sinks"),
    /**
     * SPI 2: takes a pass's {@link StepMetadata} once ({@link Backend#step}) and runs {@code embed}, {@code rope},
     * {@code storeKv} and {@code attention} from the backend-side {@link Step}. Without it the runtime calls the
     * SPI 1 kernels with host arrays.
     */
    STEP_METADATA("spi2.step-metadata"),
    /**
     * SPI 2: the whole MoE block as one operation ({@link Backend#moe}), routing on the device for a
     * {@link dev.floe.api.RoutingSpec}. Without it the runtime decomposes the block into SPI 1 kernels and routes on
     * the host.
     */
    FUSED_MOE("spi2.moe"),
    /**
     * SPI 2: compiles a {@link Plan} into something it replays ({@link Backend#compile}); needs
     * {@link #STEP_METADATA}. Without it the runtime interprets plans operation by operation.
     */
    PLANS("spi2.plans"),
    /** SPI 2: counts its own dispatches (kernel launches or pool jobs), {@link Backend#dispatches()}. */
    DISPATCH_COUNTER("spi2.dispatch-counter");

    private final String id;

    Capability(String id) {
        this.id = id;
    }

    /** The stable name of the capability. */
    public String id() {
        return id;
    }

    /** The capability that reading {@code dtype} natively requires, or null for non-float dtypes. */
    public static Capability forWeights(DType dtype) {
        return switch (dtype) {
            case F32 -> WEIGHTS_F32;
            case F16 -> WEIGHTS_F16;
            case BF16 -> WEIGHTS_BF16;
            case F8_E4M3 -> WEIGHTS_FP8_E4M3;
            case F8_E5M2 -> WEIGHTS_FP8_E5M2;
            case I64, I32 -> null;
        };
    }
}
