package dev.floe.spi;

import dev.floe.api.InvalidRequestException;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A strategy's {@code key=value} parameters read against its {@link ParameterSpec}s: the one place where unknown keys
 * and values of the wrong type are rejected, for routers, schedulers and any other named provider. Every error is an
 * {@link InvalidRequestException} naming the provider, the parameter and the value, e.g. {@code router capacity-topk:
 * parameter capacity_factor=0 must be > 0}.
 */
public class Parameters {
    private final String owner;
    private final Map<String, String> values;

    /**
     * Checks that every key is one of {@code specs} and that its value has the spec's type.
     *
     * @param owner names the provider in messages, e.g. {@code "router capacity-topk"}
     */
    public Parameters(String owner, Map<String, String> values, List<ParameterSpec> specs) {
        this.owner = owner;
        this.values = Map.copyOf(values);
        for (var entry : this.values.entrySet()) {
            ParameterSpec spec = specs.stream().filter(s -> s.name().equals(entry.getKey())).findFirst().orElseThrow(() ->
                    new InvalidRequestException(owner + ": unknown parameter " + entry.getKey() + "=" + entry.getValue()
                            + " (known: " + specs.stream().map(ParameterSpec::name).toList() + ")"));
            checkType(spec, entry.getValue());
        }
    }

    private void checkType(ParameterSpec spec, String value) {
        switch (spec.type()) {
            case ParameterSpec.INT -> intValue(spec.name(), 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case ParameterSpec.LONG -> longValue(spec.name(), 0);
            case ParameterSpec.DOUBLE -> {
                // a list type ("bias=0.1,0,...") is declared as string; a double is one finite number
                parseDouble(spec.name(), value, value);
            }
            case ParameterSpec.BOOLEAN -> booleanValue(spec.name(), false);
            default -> { }
        }
    }

    /** An integer in {@code [min, max]}. */
    public int intValue(String key, int fallback, int min, int max) {
        String v = values.get(key);
        if (v == null) return fallback;
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw bad(key, v, "an integer");
        }
        if (n < min || n > max) throw bad(key, v, max == Integer.MAX_VALUE ? ">= " + min : "between " + min + " and " + max);
        return n;
    }

    /** Any 64-bit integer (a seed, for example); hexadecimal with {@code 0x} is accepted. */
    public long longValue(String key, long fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        String s = v.trim();
        try {
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw bad(key, v, "an integer");
        }
    }

    /** A finite number in {@code [min, max]}. */
    public double doubleValue(String key, double fallback, double min, double max) {
        String v = values.get(key);
        if (v == null) return fallback;
        double d = parseDouble(key, v, v);
        if (!(d >= min && d <= max)) throw bad(key, v, "between " + min + " and " + max);
        return d;
    }

    /** A finite number strictly greater than {@code exclusiveMin} and at most {@code max}. */
    public double doubleAbove(String key, double fallback, double exclusiveMin, double max) {
        String v = values.get(key);
        if (v == null) return fallback;
        double d = parseDouble(key, v, v);
        if (!(d > exclusiveMin)) throw bad(key, v, "> " + exclusiveMin);
        if (!(d <= max)) throw bad(key, v, "<= " + max);
        return d;
    }

    /** {@code true/yes/1} or {@code false/no/0}. */
    public boolean booleanValue(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw bad(key, v, "true or false");
        };
    }

    /** A list of {@code length} finite numbers separated by commas, or one number repeated {@code length} times. */
    public double[] doubleList(String key, double fallback, int length) {
        String v = values.get(key);
        double[] out = new double[length];
        if (v == null) {
            Arrays.fill(out, fallback);
            return out;
        }
        String[] parts = v.split(",", -1);
        if (parts.length == 1) {
            Arrays.fill(out, parseDouble(key, v, v));
            return out;
        }
        if (parts.length != length) throw bad(key, v, "one number or " + length + " numbers separated by commas, got " + parts.length);
        for (int i = 0; i < length; i++) out[i] = parseDouble(key, v, parts[i]);
        return out;
    }

    /** The text as given. */
    public String stringValue(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    private double parseDouble(String key, String value, String part) {
        double d;
        try {
            d = Double.parseDouble(part.trim());
        } catch (NumberFormatException e) {
            throw bad(key, value, "a number" + (part.equals(value) ? "" : " (bad element '" + part + "')"));
        }
        if (!Double.isFinite(d)) throw bad(key, value, "a finite number");
        return d;
    }

    private InvalidRequestException bad(String key, String value, String expected) {
        return new InvalidRequestException(owner + ": parameter " + key + "=" + value + " must be " + expected);
    }
}
