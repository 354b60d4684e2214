package dev.floe.gating;

import dev.floe.api.InvalidRequestException;
import dev.floe.spi.ParameterSpec;

import java.util.List;
import java.util.Map;

/** Typed access to a strategy's {@code key=value} parameters, with errors that name the strategy and the key. */
public final class Parameters {
    private final String strategy;
    private final Map<String, String> values;

    public Parameters(String strategy, Map<String, String> values, List<ParameterSpec> specs) {
        this.strategy = strategy;
        this.values = Map.copyOf(values);
        for (String key : values.keySet()) {
            if (specs.stream().noneMatch(s -> s.name().equals(key))) {
                throw new InvalidRequestException("router " + strategy + ": unknown parameter '" + key + "' (known: "
                        + specs.stream().map(ParameterSpec::name).toList() + ")");
            }
        }
    }

    public int intValue(String key, int fallback, int min, int max) {
        String v = values.get(key);
        if (v == null) return fallback;
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw bad(key, v, "an integer");
        }
        if (n < min || n > max) throw bad(key, v, "between " + min + " and " + max);
        return n;
    }

    public long longValue(String key, long fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw bad(key, v, "an integer");
        }
    }

    public double doubleValue(String key, double fallback, double min, double max) {
        String v = values.get(key);
        if (v == null) return fallback;
        double d;
        try {
            d = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw bad(key, v, "a number");
        }
        if (!(d >= min && d <= max)) throw bad(key, v, "between " + min + " and " + max);
        return d;
    }

    public boolean booleanValue(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        return switch (v.trim().toLowerCase()) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw bad(key, v, "true or false");
        };
    }

    public String stringValue(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    private InvalidRequestException bad(String key, String value, String expected) {
        return new InvalidRequestException("router " + strategy + ": parameter " + key + "=" + value + " must be " + expected);
    }
}
