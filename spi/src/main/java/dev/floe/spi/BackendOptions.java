package dev.floe.spi;

import java.util.List;
import java.util.Map;

/**
 * Options for opening a backend.
 *
 * @param threads    worker threads (0: the backend's default for this machine)
 * @param properties backend-specific settings, keys prefixed with the backend name (e.g. {@code opencl.device})
 * @param devices    indices of {@link BackendProvider#devices()} to open, first one first; empty for the backend's
 *                   default (its own property, e.g. {@code cuda.device}, or its first device)
 */
public record BackendOptions(int threads, Map<String, String> properties, List<Integer> devices) {
    public static final BackendOptions DEFAULTS = new BackendOptions(0, Map.of());

    public BackendOptions {
        properties = Map.copyOf(properties);
        devices = devices == null ? List.of() : List.copyOf(devices);
    }

    /** Options for the backend's default device (the form before devices could be chosen). */
    public BackendOptions(int threads, Map<String, String> properties) {
        this(threads, properties, List.of());
    }

    /** The device to open: the first one chosen, else {@code fallback}. */
    public int device(int fallback) {
        return devices.isEmpty() ? fallback : devices.getFirst();
    }

    public String property(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }
}
