package dev.floe.api;

import java.util.Map;

/**
 * How to load a model. Null fields mean "the default".
 *
 * @param backend     backend name ({@code cpu-vector}, {@code opencl}, {@code cuda}); null picks the best available
 * @param router      router spec {@code NAME[:key=value,...]}; null is {@code softmax-topk}
 * @param expertStore expert store name ({@code mapped}, {@code memory}); null is {@code mapped}
 * @param threads     worker threads for CPU kernels; 0 sizes the pool to the machine
 * @param properties  backend-specific options (for example {@code opencl.device=1})
 */
public record ModelOptions(String backend, String router, String expertStore, int threads, Map<String, String> properties) {
    public static final ModelOptions DEFAULTS = new ModelOptions(null, null, null, 0, Map.of());

    public ModelOptions {
        if (threads < 0) throw new InvalidRequestException("threads must be >= 0, got " + threads);
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }

    public ModelOptions withBackend(String b) {
        return new ModelOptions(b, router, expertStore, threads, properties);
    }

    public ModelOptions withRouter(String r) {
        return new ModelOptions(backend, r, expertStore, threads, properties);
    }

    public ModelOptions withExpertStore(String s) {
        return new ModelOptions(backend, router, s, threads, properties);
    }

    public ModelOptions withThreads(int t) {
        return new ModelOptions(backend, router, expertStore, t, properties);
    }

    public ModelOptions withProperties(Map<String, String> p) {
        return new ModelOptions(backend, router, expertStore, threads, p);
    }
}
