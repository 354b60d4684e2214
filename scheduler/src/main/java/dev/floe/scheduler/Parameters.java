package dev.floe.scheduler;

import dev.floe.api.InvalidRequestException;
import dev.floe.spi.ParameterSpec;

import java.util.List;
import java.util.Map;

/** Reads a provider's typed parameters, rejecting unknown keys and values of the wrong type. */
final class Parameters {
    private Parameters() {
    }

    static void checkKnown(String scheduler, List<ParameterSpec> specs, Map<String, String> params) {
        for (String key : params.keySet()) {
            if (specs.stream().noneMatch(s -> s.name().equals(key))) {
                throw new InvalidRequestException("scheduler " + scheduler + " has no parameter '" + key + "' (known: "
                        + specs.stream().map(ParameterSpec::name).toList() + ")");
            }
        }
    }

    static int integer(String scheduler, List<ParameterSpec> specs, Map<String, String> params, String name, int min) {
        String v = value(specs, params, name);
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("scheduler " + scheduler + ": parameter " + name + " must be an integer, got '" + v + "'");
        }
        if (n < min) throw new InvalidRequestException("scheduler " + scheduler + ": parameter " + name + " must be >= " + min + ", got " + n);
        return n;
    }

    private static String value(List<ParameterSpec> specs, Map<String, String> params, String name) {
        ParameterSpec spec = specs.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
        return params.getOrDefault(name, spec.defaultValue()).trim();
    }
}
