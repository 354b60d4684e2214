package dev.floe.runtime;

import dev.floe.api.InvalidRequestException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A named provider with its parameters, as users write it: {@code NAME[:key=value,...]}, e.g.
 * {@code capacity-topk:capacity_factor=1.25} or {@code sigmoid-topk:bias=0.1,0,0,0}. A comma-separated part without
 * {@code =} continues the previous value, so list values need no quoting.
 *
 * @param kind   what it names, for messages ({@code router}, {@code scheduler})
 * @param name   the provider's name
 * @param params values by parameter name, in the order given
 */
public record ProviderSpec(String kind, String name, Map<String, String> params) {
    public ProviderSpec {
        params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** Parses a spec, or returns {@code fallback} with no parameters when it is null or blank. */
    public static ProviderSpec parse(String kind, String spec, String fallback) {
        if (spec == null || spec.isBlank()) return new ProviderSpec(kind, fallback, Map.of());
        int colon = spec.indexOf(':');
        String name = (colon < 0 ? spec : spec.substring(0, colon)).trim();
        if (name.isEmpty()) throw new InvalidRequestException(kind + " spec '" + spec + "' has no name");
        Map<String, String> params = new LinkedHashMap<>();
        String last = null;
        if (colon >= 0 && colon + 1 < spec.length()) {
            for (String part : spec.substring(colon + 1).split(",", -1)) {
                int eq = part.indexOf('=');
                if (eq < 0 && last != null) {
                    params.put(last, params.get(last) + "," + part.trim());
                    continue;
                }
                if (eq <= 0) throw new InvalidRequestException(kind + " spec '" + spec + "': '" + part + "' is not key=value");
                String key = part.substring(0, eq).trim();
                if (params.put(key, part.substring(eq + 1).trim()) != null) {
                    throw new InvalidRequestException(kind + " spec '" + spec + "': parameter " + key + " is given twice");
                }
                last = key;
            }
        }
        return new ProviderSpec(kind, name, params);
    }
}
