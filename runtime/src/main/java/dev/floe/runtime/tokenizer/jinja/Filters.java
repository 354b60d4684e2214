package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

import static dev.floe.runtime.tokenizer.jinja.Values.UNDEFINED;
import static dev.floe.runtime.tokenizer.jinja.Values.fail;
import static dev.floe.runtime.tokenizer.jinja.Values.str;

/**
 * Jinja2's built-in filters as chat templates use them, with transformers' {@code tojson} (Python's
 * {@code json.dumps} with {@code ensure_ascii=False}, {@code indent}, {@code separators} and {@code sort_keys}).
 */
final class Filters {

    private Filters() {}

    /** Item and attribute lookup as the interpreter does it, for {@code attribute=} arguments. */
    interface Lookup {
        Object getitem(Object target, Object key);
    }

    /** Every filter Jinja2 3.1 knows; the ones Floe does not implement fail by name when a render reaches them. */
    private static final Set<String> JINJA = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d",
            "default", "dictsort", "e", "escape", "filesizeformat", "first", "float", "forceescape", "format",
            "groupby", "indent", "int", "join", "last", "length", "list", "lower", "items", "map", "min", "max",
            "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr",
            "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique", "upper", "urlencode",
            "urlize", "wordcount", "wordwrap", "xmlattr", "tojson");

    static boolean exists(String name) {
        return JINJA.contains(name);
    }

    private static final Pattern WORD_BEGINNING = Pattern.compile("([-\\s({\\[<]+)");

    static Object apply(Lookup env, String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        return switch (name) {
            case "default", "d" -> {
                Object dflt = arg(args, kwargs, 0, "default_value", "");
                boolean bool = Values.truthy(arg(args, kwargs, 1, "boolean", false));
                yield v == UNDEFINED || bool && !Values.truthy(v) ? dflt : v;
            }
            case "length", "count" -> Values.length(v);
            case "string" -> str(v);
            case "safe" -> v;
            case "e", "escape", "forceescape" -> escape(str(v));
            case "upper" -> str(v).toUpperCase(Locale.ROOT);
            case "lower" -> str(v).toLowerCase(Locale.ROOT);
            case "capitalize" -> Strings.capitalize(str(v));
            case "title" -> title(str(v));
            case "trim" -> Strings.strip(str(v), (String) arg(args, kwargs, 0, "chars", null), true, true);
            case "replace" -> Strings.replace(str(v), str(args.get(0)), str(args.get(1)),
                    args.size() > 2 && args.get(2) != null ? Values.toLong(args.get(2), "replace") : -1);
            case "first" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? UNDEFINED : items.getFirst();
            }
            case "last" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? UNDEFINED : items.getLast();
            }
            case "list" -> new ArrayList<>(Values.iterate(v));
            case "reverse" -> v instanceof String s ? new StringBuilder(s).reverse().toString()
                    : new ArrayList<>(Values.iterate(v)).reversed();
            case "join" -> {
                String sep = str(arg(args, kwargs, 0, "d", ""));
                Object attribute = arg(args, kwargs, 1, "attribute", null);
                List<String> parts = new ArrayList<>();
                for (Object x : Values.iterate(v)) {
                    parts.add(str(attribute == null ? x : attribute(env, x, attribute)));
                }
                yield String.join(sep, parts);
            }
            case "items" -> {
                if (v == UNDEFINED) {
                    yield List.of();
                }
                if (!(v instanceof Map<?, ?>)) {
                    throw fail("Can only get item pairs from a mapping.");
                }
                yield Methods.call(v, "items", List.of(), Map.of());
            }
            case "dictsort" -> dictsort(v, args, kwargs);
            case "sort" -> sort(env, v, args, kwargs);
            case "unique" -> unique(env, v, args, kwargs);
            case "min", "max" -> {
                List<Object> items = sort(env, v, List.of(), kwargs.containsKey("attribute")
                        ? Map.of("attribute", kwargs.get("attribute"), "case_sensitive", kwargs.getOrDefault("case_sensitive", false))
                        : Map.of("case_sensitive", arg(args, kwargs, 0, "case_sensitive", false)));
                yield items.isEmpty() ? UNDEFINED : name.equals("min") ? items.getFirst() : items.getLast();
            }
            case "sum" -> {
                Object attribute = arg(args, kwargs, 0, "attribute", null);
                Object total = arg(args, kwargs, 1, "start", 0L);
                for (Object x : Values.iterate(v)) {
                    Object item = attribute == null ? x : attribute(env, x, attribute);
                    total = Values.isInt(total) && Values.isInt(item) ? (Object) (Values.toLong(total, "sum") + Values.toLong(item, "sum"))
                            : (Object) (Values.toDouble(total, "sum") + Values.toDouble(item, "sum"));
                }
                yield total;
            }
            case "map" -> map(env, v, args, kwargs);
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                if (!Values.truthy(v)) { // Jinja2's select_or_reject yields nothing for a false value, even None
                    yield out;
                }
                for (Object x : Values.iterate(v)) {
                    if (check(x, args, 0) == name.equals("select")) {
                        out.add(x);
                    }
                }
                yield out;
            }
            case "selectattr", "rejectattr" -> {
                List<Object> out = new ArrayList<>();
                if (!Values.truthy(v)) {
                    yield out;
                }
                for (Object x : Values.iterate(v)) {
                    if (check(attribute(env, x, args.getFirst()), args, 1) == name.equals("selectattr")) {
                        out.add(x);
                    }
                }
                yield out;
            }
            case "attr" -> env.getitem(v, args.getFirst());
            case "tojson" -> tojson(v, args, kwargs);
            case "int" -> toInt(v, arg(args, kwargs, 0, "default", 0L), Values.toLong(arg(args, kwargs, 1, "base", 10L), "int"));
            case "float" -> toFloat(v, arg(args, kwargs, 0, "default", 0.0));
            case "abs" -> v instanceof Long n ? (Object) Math.abs(n) : (Object) Math.abs(Values.toDouble(v, "abs"));
            case "round" -> round(v, Values.toLong(arg(args, kwargs, 0, "precision", 0L), "round"),
                    str(arg(args, kwargs, 1, "method", "common")));
            case "indent" -> indent(str(v), arg(args, kwargs, 0, "width", 4L), Values.truthy(arg(args, kwargs, 1, "first", false)),
                    Values.truthy(arg(args, kwargs, 2, "blank", false)));
            case "format" -> Strings.percent(str(v), args.size() == 1 && kwargs.isEmpty() ? new Values.Tuple(List.of(args.getFirst()))
                    : kwargs.isEmpty() ? new Values.Tuple(args) : new LinkedHashMap<Object, Object>(kwargs));
            case "center" -> Methods.call(str(v), "center", List.of(arg(args, kwargs, 0, "width", 80L)), Map.of());
            case "wordcount" -> (long) Strings.split(str(v), null, -1).size();
            default -> throw new TemplateException.Unsupported("the filter '" + name + "' (Jinja2 has it; Floe does not implement it)", 0);
        };
    }

    static Object arg(List<Object> args, Map<String, Object> kwargs, int k, String keyword, Object dflt) {
        if (k < args.size()) {
            return args.get(k);
        }
        return kwargs.getOrDefault(keyword, dflt);
    }

    /** Jinja2's {@code make_attrgetter}: a dotted path, each part an item lookup (digits index lists). */
    static Object attribute(Lookup env, Object item, Object path) {
        if (!(path instanceof String p)) {
            return env.getitem(item, path);
        }
        Object v = item;
        for (String part : p.split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            v = env.getitem(v, key);
        }
        return v;
    }

    /** The test of select/reject: a named test with arguments from {@code args[from]}, or truthiness. */
    private static boolean check(Object x, List<Object> args, int from) {
        if (args.size() <= from) {
            return Values.truthy(x);
        }
        String test = str(args.get(from));
        if (!Tests.exists(test)) {
            throw fail("No test named '" + test + "'.");
        }
        return Tests.apply(test, x, args.subList(from + 1, args.size()));
    }

    private static Object map(Lookup env, Object v, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        if (!Values.truthy(v)) { // as Jinja2's do_map
            return out;
        }
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
            Object dflt = kwargs.getOrDefault("default", UNDEFINED);
            for (Object x : Values.iterate(v)) {
                Object a = attribute(env, x, kwargs.get("attribute"));
                out.add(a == UNDEFINED ? dflt : a);
            }
            return out;
        }
        if (args.isEmpty()) {
            throw fail("map requires a filter argument");
        }
        String filter = str(args.getFirst());
        if (!exists(filter)) {
            throw fail("No filter named '" + filter + "'.");
        }
        for (Object x : Values.iterate(v)) {
            out.add(apply(env, filter, x, args.subList(1, args.size()), kwargs));
        }
        return out;
    }

    private static Function<Object, Object> sortKey(Lookup env, Object attribute, boolean caseSensitive) {
        return x -> {
            Object k = attribute == null ? x : attribute(env, x, attribute);
            return !caseSensitive && k instanceof String s ? s.toLowerCase(Locale.ROOT) : k;
        };
    }

    private static List<Object> sort(Lookup env, Object v, List<Object> args, Map<String, Object> kwargs) {
        boolean reverse = Values.truthy(arg(args, kwargs, 0, "reverse", false));
        boolean caseSensitive = Values.truthy(arg(args, kwargs, 1, "case_sensitive", false));
        Function<Object, Object> key = sortKey(env, arg(args, kwargs, 2, "attribute", null), caseSensitive);
        List<Object> items = new ArrayList<>(Values.iterate(v));
        Comparator<Object> cmp = (a, b) -> Values.compare(key.apply(a), key.apply(b), "<");
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
    }

    private static List<Object> unique(Lookup env, Object v, List<Object> args, Map<String, Object> kwargs) {
        boolean caseSensitive = Values.truthy(arg(args, kwargs, 0, "case_sensitive", false));
        Function<Object, Object> key = sortKey(env, arg(args, kwargs, 1, "attribute", null), caseSensitive);
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object x : Values.iterate(v)) {
            Object k = key.apply(x);
            if (seen.stream().noneMatch(s -> Values.pyEquals(s, k))) {
                seen.add(k);
                out.add(x);
            }
        }
        return out;
    }

    private static List<Object> dictsort(Object v, List<Object> args, Map<String, Object> kwargs) {
        if (!(v instanceof Map<?, ?> m)) {
            throw fail("dictsort needs a mapping, got " + Values.typeName(v));
        }
        boolean caseSensitive = Values.truthy(arg(args, kwargs, 0, "case_sensitive", false));
        String by = str(arg(args, kwargs, 1, "by", "key"));
        boolean reverse = Values.truthy(arg(args, kwargs, 2, "reverse", false));
        int pos = switch (by) {
            case "key" -> 0;
            case "value" -> 1;
            default -> throw fail("You can only sort by either \"key\" or \"value\"");
        };
        List<Object> items = new ArrayList<>(Values.iterate(Methods.call(m, "items", List.of(), Map.of())));
        Comparator<Object> cmp = (a, b) -> {
            Object x = ((Values.Tuple) a).items().get(pos);
            Object y = ((Values.Tuple) b).items().get(pos);
            if (!caseSensitive) {
                x = x instanceof String s ? s.toLowerCase(Locale.ROOT) : x;
                y = y instanceof String s ? s.toLowerCase(Locale.ROOT) : y;
            }
            return Values.compare(x, y, "<");
        };
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
    }

    /** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    private static String tojson(Object v, List<Object> args, Map<String, Object> kwargs) {
        boolean ensureAscii = Values.truthy(arg(args, kwargs, 0, "ensure_ascii", false));
        Object indentArg = arg(args, kwargs, 1, "indent", null);
        Object separators = arg(args, kwargs, 2, "separators", null);
        boolean sortKeys = Values.truthy(arg(args, kwargs, 3, "sort_keys", false));
        String indent = switch (indentArg) {
            case null -> null;
            case Long n -> " ".repeat((int) Math.max(0, n));
            case String s -> s;
            default -> throw fail("tojson indent must be an int or a string, not " + Values.typeName(indentArg));
        };
        String item = indent == null ? ", " : ",";
        String key = ": ";
        if (separators != null) {
            List<Object> seps = Values.sequence(separators);
            if (seps == null || seps.size() != 2) {
                throw fail("tojson separators must be an (item_separator, key_separator) pair");
            }
            item = str(seps.get(0));
            key = str(seps.get(1));
        }
        return Json.dumps(v, new Json.Options(ensureAscii, indent, item, key, sortKeys));
    }

    private static Object toInt(Object v, Object dflt, long base) {
        return switch (v) {
            case Long n -> n;
            case Boolean b -> b ? 1L : 0L;
            case Double d -> (long) d.doubleValue();
            case String s -> {
                String t = Strings.strip(s, null, true, true).replace("_", "");
                try {
                    yield Long.parseLong(t.startsWith("+") ? t.substring(1) : t, (int) base);
                } catch (NumberFormatException e) {
                    try {
                        yield (long) Double.parseDouble(t);
                    } catch (NumberFormatException e2) {
                        yield dflt;
                    }
                }
            }
            case null, default -> dflt;
        };
    }

    private static Object toFloat(Object v, Object dflt) {
        return switch (v) {
            case Long n -> n.doubleValue();
            case Double d -> d;
            case Boolean b -> b ? 1.0 : 0.0;
            case String s -> {
                try {
                    yield Double.parseDouble(Strings.strip(s, null, true, true));
                } catch (NumberFormatException e) {
                    yield dflt;
                }
            }
            case null, default -> dflt;
        };
    }

    private static Object round(Object v, long precision, String method) {
        double x = Values.toDouble(v, "round");
        double scale = Math.pow(10, precision);
        double r = switch (method) {
            case "common" -> {
                java.math.BigDecimal b = new java.math.BigDecimal(Double.toString(x))
                        .setScale((int) precision, java.math.RoundingMode.HALF_EVEN);
                yield b.doubleValue();
            }
            case "ceil" -> Math.ceil(x * scale) / scale;
            case "floor" -> Math.floor(x * scale) / scale;
            default -> throw fail("method must be 'common', 'ceil' or 'floor'");
        };
        return v instanceof Long && method.equals("common") ? (Object) (long) r : (Object) r;
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String indention = width instanceof String w ? w : " ".repeat((int) Values.toLong(width, "indent"));
        List<String> lines = new ArrayList<>((s + "\n").lines().toList());
        String rv;
        if (blank) {
            rv = String.join("\n" + indention, lines);
        } else {
            rv = lines.removeFirst();
            if (!lines.isEmpty()) {
                List<String> rest = new ArrayList<>();
                lines.forEach(l -> rest.add(l.isEmpty() ? l : indention + l));
                rv += "\n" + String.join("\n", rest);
            }
        }
        return first ? indention + rv : rv;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        var m = WORD_BEGINNING.matcher(s);
        int k = 0;
        List<String> items = new ArrayList<>();
        while (m.find()) {
            items.add(s.substring(k, m.start()));
            items.add(m.group());
            k = m.end();
        }
        items.add(s.substring(k));
        for (String item : items) {
            if (!item.isEmpty()) {
                sb.append(item.substring(0, 1).toUpperCase(Locale.ROOT)).append(item.substring(1).toLowerCase(Locale.ROOT));
            }
        }
        return sb.toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
    }
}
