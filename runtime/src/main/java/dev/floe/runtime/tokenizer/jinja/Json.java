package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, which is what transformers' {@code tojson} filter calls (with
 * {@code ensure_ascii=False} unless the template says otherwise), so that tool schemas render byte for byte.
 */
final class Json {

    /** The arguments of {@code json.dumps} that {@code tojson} passes on. */
    record Options(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {}

    private final Options options;

    private Json(Options options) {
        this.options = options;
    }

    static String dumps(Object v, Options options) {
        StringBuilder sb = new StringBuilder();
        new Json(options).write(sb, v, 0);
        return sb.toString();
    }

    private void write(StringBuilder sb, Object v, int depth) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(sb, s);
            case Boolean b -> sb.append(b ? "true" : "false");
            case Long n -> sb.append(n);
            case Double d -> sb.append(floatJson(d));
            case Values.Tuple t -> array(sb, t.items(), depth);
            case List<?> l -> array(sb, l, depth);
            case Values.Namespace ns -> throw Values.fail("Object of type Namespace is not JSON serializable");
            case Map<?, ?> m -> object(sb, m, depth);
            default -> throw Values.fail("Object of type " + Values.typeName(v) + " is not JSON serializable");
        }
    }

    private static String floatJson(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return Values.floatRepr(d);
    }

    private void array(StringBuilder sb, List<?> items, int depth) {
        if (items.isEmpty()) {
            sb.append("[]");
            return;
        }
        sb.append('[');
        for (int k = 0; k < items.size(); k++) {
            separator(sb, k, depth + 1);
            write(sb, items.get(k), depth + 1);
        }
        close(sb, depth);
        sb.append(']');
    }

    private void object(StringBuilder sb, Map<?, ?> m, int depth) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        m.forEach((k, x) -> entries.add(Map.entry(key(k), x == null ? NULL : x)));
        if (options.sortKeys()) {
            entries.sort((a, b) -> Values.comparePy(a.getKey(), b.getKey()));
        }
        sb.append('{');
        for (int k = 0; k < entries.size(); k++) {
            separator(sb, k, depth + 1);
            string(sb, entries.get(k).getKey());
            sb.append(options.keySeparator());
            Object x = entries.get(k).getValue();
            write(sb, x == NULL ? null : x, depth + 1);
        }
        close(sb, depth);
        sb.append('}');
    }

    private static final Object NULL = new Object();

    /** json.dumps turns str, int, float, bool and None keys into strings and rejects others. */
    private static String key(Object k) {
        return switch (k) {
            case String s -> s;
            case Boolean b -> b ? "true" : "false";
            case Long n -> n.toString();
            case Double d -> floatJson(d);
            case null -> "null";
            default -> throw Values.fail("keys must be str, int, float, bool or None, not " + Values.typeName(k));
        };
    }

    private void separator(StringBuilder sb, int index, int depth) {
        if (index > 0) {
            sb.append(options.itemSeparator());
        }
        if (options.indent() != null) {
            sb.append('\n').append(options.indent().repeat(depth));
        }
    }

    private void close(StringBuilder sb, int depth) {
        if (options.indent() != null) {
            sb.append('\n').append(options.indent().repeat(depth));
        }
    }

    private void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (options.ensureAscii() && c > 0x7e)) {
                        sb.append("\\u%04x".formatted((int) c)); // UTF-16 units: surrogate pairs come out as Python writes them
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
