package dev.floe.api;

import java.util.List;
import java.util.Map;

/**
 * How to load a model. Null fields mean "the default".
 *
 * @param backend     backend name ({@code cpu-vector}, {@code opencl}, {@code cuda}); null picks the best available
 * @param router      router spec {@code NAME[:key=value,...]}; null is {@code softmax-topk}
 * @param expertStore expert store name ({@code mapped}, {@code memory}); null is {@code mapped}
 * @param threads     worker threads for CPU kernels; 0 sizes the pool to the machine
 * @param properties  backend-specific options (for example {@code opencl.device=1})
 * @param devices     indices of the backend's devices to run on ({@link BackendDevice#index()}; {@code floe backends}
 *                    lists them); empty for the backend's default. A single-device model runs on the first.
 */
public record ModelOptions(String backend, String router, String expertStore, int threads, Map<String, String> properties,
                           List<Integer> devices) {
    public static final ModelOptions DEFAULTS = new ModelOptions(null, null, null, 0, Map.of());

    public ModelOptions {
        if (threads < 0) throw new InvalidRequestException("threads must be >= 0, got " + threads);
        properties = properties == null ? Map.of() : Map.copyOf(properties);
        devices = devices == null ? List.of() : List.copyOf(devices);
        for (int d : devices) if (d < 0) throw new InvalidRequestException("devices: index " + d + " is negative");
        if (devices.stream().distinct().count() != devices.size()) {
            throw new InvalidRequestException("devices: " + devices + " names a device twice");
        }
    }

    /** Options on the backend's default device (the form before devices could be chosen). */
    public ModelOptions(String backend, String router, String expertStore, int threads, Map<String, String> properties) {
        this(backend, router, expertStore, threads, properties, List.of());
    }

    public ModelOptions withBackend(String b) {
        return new ModelOptions(b, router, expertStore, threads, properties, devices);
    }

    public ModelOptions withRouter(String r) {
        return new ModelOptions(backend, r, expertStore, threads, properties, devices);
    }

    public ModelOptions withExpertStore(String s) {
        return new ModelOptions(backend, router, s, threads, properties, devices);
    }

    public ModelOptions withThreads(int t) {
        return new ModelOptions(backend, router, expertStore, t, properties, devices);
    }

    public ModelOptions withProperties(Map<String, String> p) {
        return new ModelOptions(backend, router, expertStore, threads, p, devices);
    }

    public ModelOptions withDevices(List<Integer> d) {
        return new ModelOptions(backend, router, expertStore, threads, properties, d);
    }

    /** Property: tensor-parallel ranks (default 1); see {@link #withParallel}. */
    public static final String TENSOR_PARALLEL = "parallel.tp";
    /** Property: expert-parallel ranks (default 1); see {@link #withParallel}. */
    public static final String EXPERT_PARALLEL = "parallel.ep";

    /**
     * Runs the model on {@code max(tp, ep)} ranks of the backend's device group: attention and the dense MLPs split
     * {@code tp} ways, the experts {@code ep} ways (each of them 1 or the number of ranks). Kept in
     * {@link #properties()} as {@value #TENSOR_PARALLEL} and {@value #EXPERT_PARALLEL}.
     */
    public ModelOptions withParallel(int tp, int ep) {
        var p = new java.util.LinkedHashMap<>(properties);
        p.put(TENSOR_PARALLEL, Integer.toString(tp));
        p.put(EXPERT_PARALLEL, Integer.toString(ep));
        return withProperties(p);
    }
}
