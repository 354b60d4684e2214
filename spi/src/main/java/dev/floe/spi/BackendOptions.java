package dev.floe.spi;

import java.util.Map;

/**
 * Options for opening a backend.
 *
 * @param threads    worker threads (0: the backend's default for this machine)
 * @param properties backend-specific settings, keys prefixed with the backend name (e.g. {@code opencl.device})
 */
public record BackendOptions(int threads, Map<String, String> properties) {
    public static final BackendOptions DEFAULTS = new BackendOptions(0, Map.of());

    public BackendOptions {
        properties = Map.copyOf(properties);
    }

    public String property(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }
}
