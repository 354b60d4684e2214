package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static dev.floe.runtime.tokenizer.jinja.Values.fail;
import static dev.floe.runtime.tokenizer.jinja.Values.str;

/**
 * The Python methods of str, dict and list that templates call. The ones that mutate a list or dict exist but fail
 * when called, as in Jinja2's {@code ImmutableSandboxedEnvironment}, which transformers renders with.
 */
final class Methods {

    private Methods() {}

    private static final Set<String> STRING = Set.of("strip", "lstrip", "rstrip", "upper", "lower", "title",
            "capitalize", "swapcase", "startswith", "endswith", "replace", "split", "rsplit", "splitlines", "find",
            "rfind", "index", "rindex", "count", "join", "format", "isdigit", "isalpha", "isalnum", "isspace", "isupper",
            "islower", "isnumeric", "isdecimal", "istitle", "zfill", "center", "ljust", "rjust", "partition",
            "rpartition", "removeprefix", "removesuffix", "casefold", "expandtabs");
    private static final Set<String> DICT = Set.of("items", "keys", "values", "get", "copy");
    private static final Set<String> DICT_MUTATORS = Set.of("pop", "popitem", "setdefault", "update", "clear");
    private static final Set<String> LIST = Set.of("index", "count", "copy");
    private static final Set<String> LIST_MUTATORS = Set.of("append", "extend", "insert", "pop", "remove", "reverse",
            "sort", "clear");

    /** A method bound to its receiver, as {@code s.strip} evaluates to before it is called. */
    record Bound(Object target, String name) implements Values.Callable {
        @Override public Object call(List<Object> args, Map<String, Object> kwargs) {
            return Methods.call(target, name, args, kwargs);
        }
    }

    /** Python str methods Floe does not implement: naming them beats Jinja's "undefined" for a method that exists. */
    private static final Set<String> STRING_UNIMPLEMENTED = Set.of("encode", "format_map", "isascii", "isidentifier",
            "isprintable", "maketrans", "translate");

    static void checkImplemented(Object target, String name) {
        if (target instanceof String && STRING_UNIMPLEMENTED.contains(name)) {
            throw new TemplateException.Unsupported("the str method ." + name + "() (Floe does not implement it)", 0);
        }
    }

    /** Whether {@code target.name} is a method (attribute lookup prefers methods to dict keys, as Python's getattr). */
    static boolean has(Object target, String name) {
        return switch (target) {
            case String s -> STRING.contains(name);
            case Values.Namespace ns -> false;
            case Map<?, ?> m -> DICT.contains(name) || DICT_MUTATORS.contains(name);
            case Values.Tuple t -> name.equals("index") || name.equals("count");
            case List<?> l -> LIST.contains(name) || LIST_MUTATORS.contains(name);
            case null, default -> false;
        };
    }

    static Object call(Object target, String name, List<Object> args, Map<String, Object> kwargs) {
        if (target instanceof Map<?, ?> && DICT_MUTATORS.contains(name) || target instanceof List<?> && LIST_MUTATORS.contains(name)) {
            throw fail("access to attribute '" + name + "' of '" + Values.typeName(target) + "' object is unsafe.");
        }
        return switch (target) {
            case String s -> string(s, name, args, kwargs);
            case Map<?, ?> m -> dict(m, name, args);
            default -> list(Values.sequence(target), name, args);
        };
    }

    private static Object arg(List<Object> args, Map<String, Object> kwargs, int k, String keyword, Object dflt) {
        if (k < args.size()) {
            return args.get(k);
        }
        return kwargs.getOrDefault(keyword, dflt);
    }

    private static String optString(Object v, String method) {
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return s;
        }
        throw fail(method + " arg must be None or str, not " + Values.typeName(v));
    }

    private static Object string(String s, String name, List<Object> args, Map<String, Object> kwargs) {
        Object a0 = arg(args, kwargs, 0, "", null);
        return switch (name) {
            case "strip" -> Strings.strip(s, optString(arg(args, kwargs, 0, "chars", null), "strip"), true, true);
            case "lstrip" -> Strings.strip(s, optString(arg(args, kwargs, 0, "chars", null), "lstrip"), true, false);
            case "rstrip" -> Strings.strip(s, optString(arg(args, kwargs, 0, "chars", null), "rstrip"), false, true);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "casefold" -> s.toLowerCase(Locale.ROOT);
            case "title" -> Strings.title(s);
            case "capitalize" -> Strings.capitalize(s);
            case "swapcase" -> swapcase(s);
            case "startswith", "endswith" -> affix(s, a0, name.equals("startswith"));
            case "replace" -> Strings.replace(s, str(args.get(0)), str(args.get(1)),
                    args.size() > 2 ? Values.toLong(args.get(2), "replace") : -1);
            case "split" -> Strings.split(s, optString(arg(args, kwargs, 0, "sep", null), "split"),
                    Values.toLong(arg(args, kwargs, 1, "maxsplit", -1L), "split"));
            case "rsplit" -> Strings.rsplit(s, optString(arg(args, kwargs, 0, "sep", null), "rsplit"),
                    Values.toLong(arg(args, kwargs, 1, "maxsplit", -1L), "rsplit"));
            case "splitlines" -> new ArrayList<Object>(s.lines().toList());
            case "find" -> (long) s.indexOf(str(a0));
            case "rfind" -> (long) s.lastIndexOf(str(a0));
            case "index", "rindex" -> {
                int k = name.equals("index") ? s.indexOf(str(a0)) : s.lastIndexOf(str(a0));
                if (k < 0) {
                    throw fail("substring not found");
                }
                yield (long) k;
            }
            case "count" -> countOf(s, str(a0));
            case "join" -> {
                List<String> parts = new ArrayList<>();
                for (Object x : Values.iterate(a0)) {
                    if (!(x instanceof String xs)) {
                        throw fail("sequence item " + parts.size() + ": expected str instance, " + Values.typeName(x) + " found");
                    }
                    parts.add(xs);
                }
                yield String.join(s, parts);
            }
            case "format" -> Strings.format(s, args, kwargs);
            case "isdigit", "isnumeric", "isdecimal" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> Strings.isAllSpace(s, 0);
            case "isupper" -> s.chars().anyMatch(Character::isUpperCase) && s.chars().noneMatch(Character::isLowerCase);
            case "islower" -> s.chars().anyMatch(Character::isLowerCase) && s.chars().noneMatch(Character::isUpperCase);
            case "istitle" -> !s.isEmpty() && s.equals(Strings.title(s)) && s.chars().anyMatch(Character::isLetter);
            case "zfill" -> {
                int width = (int) Values.toLong(a0, "zfill");
                boolean sign = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
                String pad = "0".repeat(Math.max(0, width - s.length()));
                yield sign ? s.charAt(0) + pad + s.substring(1) : pad + s;
            }
            case "center", "ljust", "rjust" -> {
                int width = (int) Values.toLong(a0, name);
                String fill = args.size() > 1 ? str(args.get(1)) : " ";
                int total = Math.max(0, width - s.length());
                int left = name.equals("ljust") ? 0 : name.equals("rjust") ? total : total / 2 + (total % 2 & width % 2);
                yield fill.repeat(left) + s + fill.repeat(total - left);
            }
            case "partition", "rpartition" -> {
                String sep = str(a0);
                int k = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (k < 0) {
                    yield name.equals("partition") ? tuple(s, "", "") : tuple("", "", s);
                }
                yield tuple(s.substring(0, k), sep, s.substring(k + sep.length()));
            }
            case "removeprefix" -> s.startsWith(str(a0)) ? s.substring(str(a0).length()) : s;
            case "removesuffix" -> s.endsWith(str(a0)) && !str(a0).isEmpty() ? s.substring(0, s.length() - str(a0).length()) : s;
            case "expandtabs" -> s.replace("\t", " ".repeat(8));
            default -> throw new TemplateException.Unsupported("the string method ." + name + "()", 0);
        };
    }

    private static Values.Tuple tuple(Object... items) {
        return new Values.Tuple(List.of(items));
    }

    private static boolean affix(String s, Object arg, boolean prefix) {
        List<Object> options = Values.sequence(arg);
        if (options == null) {
            if (!(arg instanceof String)) {
                throw fail((prefix ? "startswith" : "endswith") + " first arg must be str or a tuple of str, not "
                        + Values.typeName(arg));
            }
            options = List.of(arg);
        }
        for (Object o : options) {
            String t = str(o);
            if (prefix ? s.startsWith(t) : s.endsWith(t)) {
                return true;
            }
        }
        return false;
    }

    private static long countOf(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) {
            n++;
        }
        return n;
    }

    private static String swapcase(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.appendCodePoint(Character.isUpperCase(c) ? Character.toLowerCase(c)
                : Character.isLowerCase(c) ? Character.toUpperCase(c) : c));
        return sb.toString();
    }

    private static Object dict(Map<?, ?> m, String name, List<Object> args) {
        return switch (name) {
            case "items" -> {
                List<Object> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(new Values.Tuple(java.util.Arrays.asList(k, v))));
                yield items;
            }
            case "keys" -> new ArrayList<Object>(m.keySet());
            case "values" -> new ArrayList<Object>(m.values());
            case "get" -> {
                Object key = args.isEmpty() ? null : args.getFirst();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (Values.pyEquals(e.getKey(), key)) {
                        yield e.getValue();
                    }
                }
                yield args.size() > 1 ? args.get(1) : null;
            }
            case "copy" -> new java.util.LinkedHashMap<>(m);
            default -> throw new TemplateException.Unsupported("the dict method ." + name + "()", 0);
        };
    }

    private static Object list(List<Object> l, String name, List<Object> args) {
        return switch (name) {
            case "index" -> {
                for (int k = 0; k < l.size(); k++) {
                    if (Values.pyEquals(l.get(k), args.getFirst())) {
                        yield (long) k;
                    }
                }
                throw fail(Values.repr(args.getFirst()) + " is not in list");
            }
            case "count" -> l.stream().filter(x -> Values.pyEquals(x, args.getFirst())).count();
            case "copy" -> new ArrayList<>(l);
            default -> throw new TemplateException.Unsupported("the list method ." + name + "()", 0);
        };
    }
}
