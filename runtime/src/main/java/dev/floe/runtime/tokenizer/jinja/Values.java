package dev.floe.runtime.tokenizer.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python's value semantics over the Java values a template sees: {@code null} (None), {@link Boolean}, {@link Long}
 * (int), {@link Double} (float), {@link String}, {@link List} (list; {@link Tuple} for tuples), {@link Map} (dict,
 * insertion-ordered), plus Jinja's {@link #UNDEFINED}, {@link Namespace} and {@link Macro}.
 */
final class Values {

    private Values() {}

    /** Jinja's undefined value: prints as nothing, is false, iterates as empty; anything else done with it fails. */
    static final Object UNDEFINED = new Object() {
        @Override public String toString() {
            return "Undefined";
        }
    };

    /** A Python tuple: a list that prints with parentheses. */
    record Tuple(List<Object> items) {}

    /** The mutable object {@code namespace(...)} returns; the only target of {@code set x.attr = ...}. */
    static final class Namespace extends LinkedHashMap<String, Object> {}

    /** A callable the interpreter runs: a macro, {@code caller}, or a method bound to its receiver. */
    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** A macro as a value (Jinja's {@code Macro}); calling it renders its body. */
    interface Macro extends Callable {
        String name();
    }

    static Failed fail(String message) {
        return new Failed(message);
    }

    /** A render error before the interpreter adds the line. */
    static final class Failed extends RuntimeException {
        Failed(String message) {
            super(message, null, false, false);
        }
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long n -> n != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Tuple t -> !t.items().isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> v != UNDEFINED;
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static double toDouble(Object v, String op) {
        return switch (v) {
            case Long n -> n;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            case null, default -> throw fail("unsupported operand type for " + op + ": '" + typeName(v) + "'");
        };
    }

    static long toLong(Object v, String op) {
        return switch (v) {
            case Long n -> n;
            case Boolean b -> b ? 1 : 0;
            case null, default -> throw fail("'" + typeName(v) + "' object cannot be interpreted as an integer (" + op + ")");
        };
    }

    /** The items of a list or tuple, or null. */
    static List<Object> sequence(Object v) {
        if (v instanceof Tuple t) {
            return t.items();
        }
        if (v instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> o = (List<Object>) l;
            return o;
        }
        return null;
    }

    static boolean pyEquals(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return isInt(a) && isInt(b) ? toLong(a, "==") == toLong(b, "==") : toDouble(a, "==") == toDouble(b, "==");
        }
        List<Object> x = sequence(a);
        List<Object> y = sequence(b);
        if (x != null && y != null) {
            if ((a instanceof Tuple) != (b instanceof Tuple) || x.size() != y.size()) {
                return false;
            }
            for (int k = 0; k < x.size(); k++) {
                if (!pyEquals(x.get(k), y.get(k))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> m && b instanceof Map<?, ?> n) {
            if (m.size() != n.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!n.containsKey(e.getKey()) || !pyEquals(e.getValue(), n.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            return isInt(a) && isInt(b) ? Long.compare(toLong(a, op), toLong(b, op)) : Double.compare(toDouble(a, op), toDouble(b, op));
        }
        if (a instanceof String x && b instanceof String y) {
            return Integer.signum(comparePy(x, y));
        }
        List<Object> x = sequence(a);
        List<Object> y = sequence(b);
        if (x != null && y != null) {
            for (int k = 0; k < Math.min(x.size(), y.size()); k++) {
                if (!pyEquals(x.get(k), y.get(k))) {
                    return compare(x.get(k), y.get(k), op);
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw fail("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    /** Python compares strings by code point, Java's compareTo by UTF-16 unit. */
    static int comparePy(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String t)) {
                throw fail("'in <string>' requires string as left operand, not " + typeName(item));
            }
            return s.contains(t);
        }
        List<Object> seq = sequence(container);
        if (seq != null) {
            return seq.stream().anyMatch(x -> pyEquals(x, item));
        }
        if (container instanceof Map<?, ?> m) {
            return m.keySet().stream().anyMatch(k -> pyEquals(k, item));
        }
        if (container == UNDEFINED) {
            return false;
        }
        throw fail("argument of type '" + typeName(container) + "' is not iterable");
    }

    /** What a for loop over the value visits: list items, dict keys, string characters. */
    static List<Object> iterate(Object v) {
        List<Object> seq = sequence(v);
        if (seq != null) {
            return seq;
        }
        return switch (v) {
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
            case null -> throw fail("'NoneType' object is not iterable");
            default -> {
                if (v == UNDEFINED) {
                    yield List.of();
                }
                throw fail("'" + typeName(v) + "' object is not iterable");
            }
        };
    }

    static long length(Object v) {
        List<Object> seq = sequence(v);
        if (seq != null) {
            return seq.size();
        }
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case Map<?, ?> m -> m.size();
            case null, default -> {
                if (v == UNDEFINED) {
                    yield 0;
                }
                throw fail("object of type '" + typeName(v) + "' has no len()");
            }
        };
    }

    /** Python's {@code str()}, which is what {@code {{ }}} prints. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Double d -> floatRepr(d);
            case Long n -> n.toString();
            case Namespace ns -> "<Namespace " + repr(new LinkedHashMap<>(ns)) + ">";
            case Macro m -> "<Macro '" + m.name() + "'>";
            default -> v == UNDEFINED ? "" : repr(v);
        };
    }

    /** Python's {@code repr()}. */
    static String repr(Object v) {
        return switch (v) {
            case String s -> stringRepr(s);
            case Tuple t -> {
                List<String> parts = new ArrayList<>();
                t.items().forEach(x -> parts.add(repr(x)));
                yield "(" + String.join(", ", parts) + (parts.size() == 1 ? ",)" : ")");
            }
            case List<?> l -> {
                List<String> parts = new ArrayList<>();
                l.forEach(x -> parts.add(repr(x)));
                yield "[" + String.join(", ", parts) + "]";
            }
            case Namespace ns -> str(ns);
            case Map<?, ?> m -> {
                List<String> parts = new ArrayList<>();
                m.forEach((k, x) -> parts.add(repr(k) + ": " + repr(x)));
                yield "{" + String.join(", ", parts) + "}";
            }
            case null, default -> str(v);
        };
    }

    private static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == quote) {
                        sb.append('\\').append((char) c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append("\\x%02x".formatted(c));
                    } else if (!isPrintable(c)) {
                        sb.append(c <= 0xff ? "\\x%02x".formatted(c) : c <= 0xffff ? "\\u%04x".formatted(c) : "\\U%08x".formatted(c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        }
        return sb.append(quote).toString();
    }

    /** Python's str.isprintable() for one code point (ASCII space counts as printable). */
    private static boolean isPrintable(int c) {
        if (c == ' ') {
            return true;
        }
        int t = Character.getType(c);
        return !(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE || t == Character.PRIVATE_USE
                || t == Character.UNASSIGNED || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR
                || t == Character.SPACE_SEPARATOR);
    }

    /** Python's {@code repr(float)}: the shortest digits that round-trip, positional between 1e-4 and 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = b.precision() - b.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String s = b.toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String digits = b.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + "%02d".formatted(Math.abs(exponent));
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case String s -> "str";
            case Long n -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case Tuple t -> "tuple";
            case List<?> l -> "list";
            case Namespace ns -> "Namespace";
            case Map<?, ?> m -> "dict";
            case Macro m -> "Macro";
            case Callable c -> "function";
            default -> v == UNDEFINED ? "Undefined" : v.getClass().getSimpleName();
        };
    }
}
