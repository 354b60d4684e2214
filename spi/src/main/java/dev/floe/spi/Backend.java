package dev.floe.spi;

import dev.floe.api.TensorData;

import java.util.Set;

/**
 * An open backend: device memory and the kernels of the Arctic/Mixtral layer graph. All activations are float32,
 * row-major; {@code rows} is the number of tokens in the pass. Unless a method says otherwise, an output buffer may
 * not alias an input. Calls come from one thread at a time; a backend may execute them asynchronously as long as
 * {@link #download} and {@link #synchronize} see the effect of every earlier call.
 *
 * <p>Errors: a call with sizes that do not fit the buffers or weights, or a closed resource, throws
 * {@link IllegalArgumentException} or {@link IllegalStateException} naming the argument; device failures throw
 * {@link BackendException} naming the device call and its error code. No call may crash the JVM.
 *
 * <h2>SPI 2: optional operations</h2>
 * The operations after "SPI 2" below are optional. Each belongs to a {@link Capability}; the runtime calls one only
 * when the backend declares its capability, and otherwise runs its own decomposition into the SPI 1 kernels. Their
 * default bodies throw {@link UnsupportedOperationException} naming the capability: they never quietly do something
 * else. A backend written against SPI 1 compiles and runs unchanged.
 */
public interface Backend extends AutoCloseable {
    /** The provider name. */
    String name();

    /** The device in use, in words. */
    String device();

    /** What this backend offers. */
    Set<Capability> capabilities();

    // ---- memory

    /** A zero-filled float32 buffer of {@code floats} elements. */
    Buffer allocate(long floats);

    /** Copies {@code n} floats from the host into {@code dst} at {@code dstOffset}. */
    void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int n);

    /** Copies {@code n} floats of {@code src} from {@code srcOffset} to the host; waits for earlier kernels. */
    void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int n);

    /** Places a weight (and its scale) on the device. Its dtype must be one this backend declares. */
    Weight weight(TensorData tensor);

    /**
     * Places a weight whose scale is laid out as {@code layout} says (null: no scale). Tensor and channel layouts are
     * what {@link #weight(TensorData)} reads, and the default hands them to it; a {@link ScaleLayout.Block} grid needs
     * {@link Capability#WEIGHTS_BLOCK_SCALES}, and the runtime calls this for it only when the backend declares that
     * capability (otherwise it dequantises the weight on the host first).
     */
    default Weight weight(TensorData tensor, ScaleLayout layout) {
        if (layout instanceof ScaleLayout.Block) throw missing(Capability.WEIGHTS_BLOCK_SCALES, "weight(block-scaled)");
        return weight(tensor);
    }

    /** A zero-filled paged KV cache. */
    KvCache kvCache(KvLayout layout);

    /** Bytes of device memory this backend holds now (buffers, weights, caches). */
    long memoryInUse();

    /**
     * Measures the read bandwidth of the memory the weights live in, in GB/s, with the parallelism the kernels use
     * (benchmarks divide by it to report model bandwidth utilisation). Takes a moment; NaN if not supported.
     */
    default double measureBandwidth() {
        return Double.NaN;
    }

    /**
     * Measures the float32 multiply-add rate of the device with the parallelism the kernels use, in units of 10^9
     * multiply-adds per second, from a kernel that reads no memory (benchmarks divide the multiply-adds of a forward
     * pass per second by it to report the utilisation of the arithmetic units). Takes a moment; NaN if not supported.
     */
    default double measureMultiplyAddRate() {
        return Double.NaN;
    }

    // ---- kernels

    /** {@code out[r] = table[ids[r]]} for each id; ids must be in {@code [0, table.rows())}. */
    void embed(Weight table, int[] ids, Buffer out);

    /** {@code out[r] = w * x[r] / sqrt(mean(x[r]^2) + eps)} over rows of {@code dim}; out may alias x. */
    void rmsNorm(Buffer x, Weight w, float eps, int rows, int dim, Buffer out);

    /**
     * {@code out[r][o] = sum_i x[r][i] * W[o][i]} for {@code rows} rows: {@code x} is {@code [rows, w.cols()]},
     * {@code out} is {@code [rows, w.rows()]}. Quantised weights are dequantised on the fly, scale included.
     */
    void matmul(Buffer x, int rows, Weight w, Buffer out);

    /**
     * Rotates {@code x} ({@code [rows, heads * headDim]}) in place, rotate-half style: for {@code j < headDim/2} and
     * angle {@code positions[r] * theta^(-2j/headDim)}, the pair {@code (x[j], x[j + headDim/2])} rotates.
     */
    void rope(Buffer x, int rows, int heads, int headDim, int[] positions, float theta);

    /** Writes key and value rows ({@code [rows, kvHeads * headDim]}) of {@code layer} into KV slots {@code slots[r]}. */
    void storeKv(KvCache cache, int layer, Buffer k, Buffer v, int rows, int[] slots);

    /**
     * Causal scaled-dot-product attention of the query rows {@code q} ({@code [rows, heads * headDim]}) over the
     * cache of {@code layer}, as {@code batch} describes; softmax in float32 with scale {@code 1/sqrt(headDim)}.
     * Writes {@code out} ({@code [rows, heads * headDim]}).
     */
    void attention(Buffer q, KvCache cache, int layer, AttentionBatch batch, Buffer out);

    /** {@code out[i] = silu(gate[i]) * up[i]} for {@code n} elements; out may alias gate or up. */
    void swiglu(Buffer gate, Buffer up, long n, Buffer out);

    /** {@code out[i] = a[i] + b[i]} for {@code n} elements; out may alias a or b. */
    void add(Buffer a, Buffer b, long n, Buffer out);

    /** {@code dst[i] = src[rows[i]]} for rows of {@code cols} floats. */
    void gatherRows(Buffer src, int cols, int[] rows, Buffer dst);

    /** {@code dst[rows[i]] += scales[i] * src[i]} for rows of {@code cols} floats, in order of i. */
    void scatterAddRows(Buffer src, int cols, int[] rows, float[] scales, Buffer dst);

    // ---- SPI 2 (optional; see the class comment)

    /** Copies a pass's metadata to the backend once ({@link Capability#STEP_METADATA}). */
    default Step step(StepMetadata metadata) {
        throw missing(Capability.STEP_METADATA, "step");
    }

    /** {@code out[r] = table[step token r]} ({@link Capability#STEP_METADATA}). */
    default void embed(Weight table, Step step, Buffer out) {
        throw missing(Capability.STEP_METADATA, "embed(step)");
    }

    /**
     * Rotates {@code x} ({@code [rows, heads * headDim]}) in place by the step's rotation rows, rotate-half style as
     * {@link #rope(Buffer, int, int, int, int[], float)} ({@link Capability#STEP_METADATA}).
     */
    default void rope(Buffer x, int heads, Step step) {
        throw missing(Capability.STEP_METADATA, "rope(step)");
    }

    /** Writes the step's key and value rows of {@code layer} into the step's slots ({@link Capability#STEP_METADATA}). */
    default void storeKv(KvCache cache, int layer, Buffer k, Buffer v, Step step) {
        throw missing(Capability.STEP_METADATA, "storeKv(step)");
    }

    /** Attention as {@link #attention(Buffer, KvCache, int, AttentionBatch, Buffer)} for the step's rows. */
    default void attention(Buffer q, KvCache cache, int layer, Step step, Buffer out) {
        throw missing(Capability.STEP_METADATA, "attention(step)");
    }

    /** One whole MoE block, as {@link MoeCall} describes ({@link Capability#FUSED_MOE}). */
    default void moe(MoeCall call) {
        throw missing(Capability.FUSED_MOE, "moe");
    }

    /** Compiles a plan for replay ({@link Capability#PLANS}). */
    default CompiledPlan compile(Plan plan) {
        throw missing(Capability.PLANS, "compile");
    }

    /** Kernel launches or pool jobs issued since the backend opened ({@link Capability#DISPATCH_COUNTER}). */
    default long dispatches() {
        throw missing(Capability.DISPATCH_COUNTER, "dispatches");
    }

    private UnsupportedOperationException missing(Capability c, String operation) {
        return new UnsupportedOperationException("backend " + name() + " does not offer " + operation + " (capability "
                + c.id() + " not declared); the runtime decomposes it into SPI 1 kernels");
    }

    /** Waits for every kernel issued so far. */
    void synchronize();

    /** Frees everything the backend still holds. */
    @Override
    void close();
}
