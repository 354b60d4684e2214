package dev.floe.runtime.tokenizer;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.tokenizer.ChatTemplate.UnsupportedTemplateException;
import dev.floe.runtime.tokenizer.JinjaParser.Assign;
import dev.floe.runtime.tokenizer.JinjaParser.Attr;
import dev.floe.runtime.tokenizer.JinjaParser.Binary;
import dev.floe.runtime.tokenizer.JinjaParser.Block;
import dev.floe.runtime.tokenizer.JinjaParser.Break;
import dev.floe.runtime.tokenizer.JinjaParser.Call;
import dev.floe.runtime.tokenizer.JinjaParser.Conditional;
import dev.floe.runtime.tokenizer.JinjaParser.Continue;
import dev.floe.runtime.tokenizer.JinjaParser.DictExpr;
import dev.floe.runtime.tokenizer.JinjaParser.Expr;
import dev.floe.runtime.tokenizer.JinjaParser.Filter;
import dev.floe.runtime.tokenizer.JinjaParser.For;
import dev.floe.runtime.tokenizer.JinjaParser.If;
import dev.floe.runtime.tokenizer.JinjaParser.Index;
import dev.floe.runtime.tokenizer.JinjaParser.ListExpr;
import dev.floe.runtime.tokenizer.JinjaParser.Literal;
import dev.floe.runtime.tokenizer.JinjaParser.Node;
import dev.floe.runtime.tokenizer.JinjaParser.Output;
import dev.floe.runtime.tokenizer.JinjaParser.Slice;
import dev.floe.runtime.tokenizer.JinjaParser.Test;
import dev.floe.runtime.tokenizer.JinjaParser.Text;
import dev.floe.runtime.tokenizer.JinjaParser.Unary;
import dev.floe.runtime.tokenizer.JinjaParser.Var;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** Evaluates a parsed chat template with Python/Jinja value semantics (the values are Java objects). */
final class JinjaInterpreter {

    private static final Object UNDEFINED = ChatTemplate.UNDEFINED;

    /** The mutable object {@code namespace(...)} returns; the only target of {@code set x.attr = ...}. */
    private static final class Namespace extends LinkedHashMap<String, Object> {}

    private static final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private final Deque<Map<String, Object>> scopes = new ArrayDeque<>();
    private final StringBuilder out = new StringBuilder();

    JinjaInterpreter(Map<String, Object> globals) {
        scopes.push(new HashMap<>(globals));
    }

    String render(List<Node> body) {
        try {
            exec(body);
        } catch (LoopControl e) {
            throw new UnsupportedTemplateException("{% break %} or {% continue %} outside a loop");
        }
        return out.toString();
    }

    private void exec(List<Node> nodes) {
        for (Node n : nodes) {
            exec(n);
        }
    }

    private void exec(Node node) {
        switch (node) {
            case Text t -> out.append(t.text());
            case Output o -> out.append(str(eval(o.expr())));
            case If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (truthy(eval(i.conditions().get(k)))) {
                        exec(i.bodies().get(k));
                        return;
                    }
                }
                exec(i.otherwise());
            }
            case For f -> loop(f);
            case Assign a -> {
                Object v = eval(a.value());
                if (a.attribute() == null) {
                    scopes.peek().put(a.name(), v);
                } else if (lookup(a.name()) instanceof Namespace ns) {
                    ns.put(a.attribute(), v);
                } else {
                    throw new UnsupportedTemplateException("assigning an attribute of '" + a.name()
                            + "', which is not a namespace()");
                }
            }
            case Break b -> throw new LoopControl(true);
            case Continue c -> throw new LoopControl(false);
            case Block b -> exec(b.body());
        }
    }

    private void loop(For f) {
        Object iterable = eval(f.iterable());
        List<Object> items = new ArrayList<>();
        for (Object item : iterate(iterable)) {
            if (f.filter() == null) {
                items.add(item);
                continue;
            }
            scopes.push(new HashMap<>());
            bind(f.targets(), item);
            boolean keep = truthy(eval(f.filter()));
            scopes.pop();
            if (keep) {
                items.add(item);
            }
        }
        if (items.isEmpty()) {
            exec(f.otherwise());
            return;
        }
        for (int k = 0; k < items.size(); k++) {
            Map<String, Object> scope = new HashMap<>();
            Map<String, Object> loop = new HashMap<>();
            loop.put("index", (long) k + 1);
            loop.put("index0", (long) k);
            loop.put("revindex", (long) (items.size() - k));
            loop.put("revindex0", (long) (items.size() - k - 1));
            loop.put("first", k == 0);
            loop.put("last", k == items.size() - 1);
            loop.put("length", (long) items.size());
            loop.put("previtem", k > 0 ? items.get(k - 1) : UNDEFINED);
            loop.put("nextitem", k + 1 < items.size() ? items.get(k + 1) : UNDEFINED);
            scope.put("loop", loop);
            scopes.push(scope);
            try {
                bind(f.targets(), items.get(k));
                exec(f.body());
            } catch (LoopControl c) {
                if (c.isBreak) {
                    break;
                }
            } finally {
                scopes.pop();
            }
        }
    }

    private void bind(List<String> targets, Object item) {
        if (targets.size() == 1) {
            scopes.peek().put(targets.getFirst(), item);
            return;
        }
        List<Object> parts = item instanceof List<?> l ? new ArrayList<>(l) : null;
        if (parts == null || parts.size() != targets.size()) {
            throw new InvalidRequestException("chat template: cannot unpack " + repr(item) + " into " + targets);
        }
        for (int k = 0; k < targets.size(); k++) {
            scopes.peek().put(targets.get(k), parts.get(k));
        }
    }

    private Iterable<?> iterate(Object v) {
        return switch (v) {
            case List<?> l -> l;
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> s.codePoints().mapToObj(Character::toString).toList();
            case null -> throw new InvalidRequestException("chat template: cannot iterate over none");
            default -> {
                if (v == UNDEFINED) {
                    yield List.of();
                }
                throw new InvalidRequestException("chat template: cannot iterate over " + repr(v));
            }
        };
    }

    private Object lookup(String name) {
        for (Map<String, Object> scope : scopes) {
            if (scope.containsKey(name)) {
                return scope.get(name);
            }
        }
        return UNDEFINED;
    }

    // ---- expressions ----

    private Object eval(Expr e) {
        return switch (e) {
            case Literal l -> l.value();
            case Var v -> lookup(v.name());
            case Attr a -> attribute(eval(a.target()), a.name());
            case Index i -> index(eval(i.target()), eval(i.index()));
            case Slice s -> slice(eval(s.target()), s);
            case Call c -> call(c);
            case Filter f -> filter(f);
            case Test t -> test(t);
            case Binary b -> binary(b);
            case Unary u -> switch (u.op()) {
                case "not" -> !truthy(eval(u.operand()));
                case "-" -> {
                    Object v = eval(u.operand());
                    if (v instanceof Long n) {
                        yield -n;
                    }
                    yield -number(v, "-");
                }
                default -> throw new UnsupportedTemplateException("the operator " + u.op());
            };
            case Conditional c -> truthy(eval(c.condition())) ? eval(c.then()) : eval(c.otherwise());
            case ListExpr l -> {
                List<Object> items = new ArrayList<>();
                l.items().forEach(x -> items.add(eval(x)));
                yield items;
            }
            case DictExpr d -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) {
                    map.put(str(eval(d.keys().get(k))), eval(d.values().get(k)));
                }
                yield map;
            }
        };
    }

    private Object attribute(Object target, String name) {
        if (target instanceof Map<?, ?> m) {
            return m.containsKey(name) ? m.get(name) : UNDEFINED;
        }
        if (target == UNDEFINED) {
            throw new InvalidRequestException("chat template: cannot read '." + name + "' of an undefined value");
        }
        return UNDEFINED;
    }

    private Object index(Object target, Object key) {
        switch (target) {
            case List<?> l when key instanceof Long n -> {
                long k = n < 0 ? n + l.size() : n;
                return k >= 0 && k < l.size() ? l.get((int) k) : UNDEFINED;
            }
            case String s when key instanceof Long n -> {
                long k = n < 0 ? n + s.length() : n;
                return k >= 0 && k < s.length() ? String.valueOf(s.charAt((int) k)) : UNDEFINED;
            }
            case Map<?, ?> m -> {
                Object k = key instanceof String ? key : str(key);
                return m.containsKey(k) ? m.get(k) : UNDEFINED;
            }
            default -> {
                if (target == UNDEFINED) {
                    throw new InvalidRequestException("chat template: cannot index an undefined value with " + repr(key));
                }
                return UNDEFINED;
            }
        }
    }

    private Object slice(Object target, Slice s) {
        int size = target instanceof List<?> l ? l.size() : target instanceof String str ? str.length() : -1;
        if (size < 0) {
            throw new InvalidRequestException("chat template: cannot slice " + repr(target));
        }
        long step = s.step() == null ? 1 : integer(eval(s.step()), "slice step");
        if (step == 0) {
            throw new InvalidRequestException("chat template: slice step cannot be zero");
        }
        Long start = s.start() == null ? null : integer(eval(s.start()), "slice start");
        Long stop = s.stop() == null ? null : integer(eval(s.stop()), "slice stop");
        long lo = clampSlice(start, size, step > 0 ? 0 : size - 1, step);
        long hi = clampSlice(stop, size, step > 0 ? size : -1, step);
        List<Integer> picks = new ArrayList<>();
        for (long k = lo; step > 0 ? k < hi : k > hi; k += step) {
            picks.add((int) k);
        }
        if (target instanceof String str) {
            StringBuilder sb = new StringBuilder();
            picks.forEach(k -> sb.append(str.charAt(k)));
            return sb.toString();
        }
        List<?> list = (List<?>) target;
        List<Object> outList = new ArrayList<>();
        picks.forEach(k -> outList.add(list.get(k)));
        return outList;
    }

    private static long clampSlice(Long v, int size, long dflt, long step) {
        if (v == null) {
            return dflt;
        }
        long k = v < 0 ? v + size : v;
        return step > 0 ? Math.clamp(k, 0, size) : Math.clamp(k, -1, size - 1);
    }

    private Object call(Call c) {
        List<Object> args = new ArrayList<>();
        c.args().forEach(a -> args.add(eval(a)));
        if (c.function() instanceof Var v) {
            switch (v.name()) {
                case "raise_exception" -> throw new InvalidRequestException("chat template: "
                        + (args.isEmpty() ? "raise_exception()" : str(args.getFirst())));
                case "namespace" -> {
                    Namespace ns = new Namespace();
                    c.kwargs().forEach((k, x) -> ns.put(k, eval(x)));
                    return ns;
                }
                case "range" -> {
                    long from = args.size() > 1 ? integer(args.get(0), "range") : 0;
                    long to = integer(args.get(args.size() > 1 ? 1 : 0), "range");
                    List<Object> r = new ArrayList<>();
                    for (long k = from; k < to; k++) {
                        r.add(k);
                    }
                    return r;
                }
                case "strftime_now" -> {
                    return Strftime.format(str(args.getFirst()), java.time.ZonedDateTime.now());
                }
                default -> throw new UnsupportedTemplateException("the function " + v.name() + "()");
            }
        }
        if (c.function() instanceof Attr a) {
            return method(eval(a.target()), a.name(), args);
        }
        throw new UnsupportedTemplateException("calling an expression that is not a name or method");
    }

    private Object method(Object target, String name, List<Object> args) {
        if (target instanceof String s) {
            String arg0 = args.isEmpty() || args.getFirst() == null ? null : str(args.getFirst());
            return switch (name) {
                case "strip" -> arg0 == null ? pyStrip(s, true, true) : stripChars(s, arg0, true, true);
                case "lstrip" -> arg0 == null ? pyStrip(s, true, false) : stripChars(s, arg0, true, false);
                case "rstrip" -> arg0 == null ? pyStrip(s, false, true) : stripChars(s, arg0, false, true);
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
                case "startswith" -> s.startsWith(Objects.requireNonNull(arg0));
                case "endswith" -> s.endsWith(Objects.requireNonNull(arg0));
                case "replace" -> s.replace(arg0, str(args.get(1)));
                case "split" -> arg0 == null
                        ? new ArrayList<Object>(List.of(pyStrip(s, true, true).split("\\s+", -1))).stream()
                                .filter(x -> !((String) x).isEmpty()).toList()
                        : List.<Object>of(s.split(java.util.regex.Pattern.quote(arg0), -1));
                default -> throw new UnsupportedTemplateException("the string method ." + name + "()");
            };
        }
        if (target instanceof Map<?, ?> m) {
            return switch (name) {
                case "items" -> m.entrySet().stream().map(e -> (Object) List.of(e.getKey(), nullSafe(e.getValue()))).toList();
                case "keys" -> new ArrayList<Object>(m.keySet());
                case "values" -> new ArrayList<Object>(m.values());
                case "get" -> m.containsKey(args.getFirst()) ? m.get(args.getFirst()) : args.size() > 1 ? args.get(1) : null;
                default -> throw new UnsupportedTemplateException("the dict method ." + name + "()");
            };
        }
        throw new UnsupportedTemplateException("the method ." + name + "() of " + typeName(target));
    }

    private static Object nullSafe(Object v) {
        return v == null ? "" : v; // List.of refuses null; None values in messages do not occur here
    }

    private Object filter(Filter f) {
        Object v = eval(f.target());
        List<Object> args = new ArrayList<>();
        f.args().forEach(a -> args.add(eval(a)));
        Map<String, Object> kwargs = new LinkedHashMap<>();
        f.kwargs().forEach((k, x) -> kwargs.put(k, eval(x)));
        return filter(f.name(), v, args, kwargs);
    }

    private Object filter(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        return switch (name) {
            case "selectattr", "rejectattr" -> {
                boolean select = name.equals("selectattr");
                List<Object> kept = new ArrayList<>();
                for (Object item : iterate(v)) {
                    Object attr = attribute(item, str(args.getFirst()));
                    boolean pass = args.size() > 1
                            ? test(str(args.get(1)), attr, args.subList(2, args.size()))
                            : truthy(attr);
                    if (pass == select) {
                        kept.add(item);
                    }
                }
                yield kept;
            }
            case "select", "reject" -> {
                boolean select = name.equals("select");
                List<Object> kept = new ArrayList<>();
                for (Object item : iterate(v)) {
                    boolean pass = args.isEmpty() ? truthy(item) : test(str(args.getFirst()), item, args.subList(1, args.size()));
                    if (pass == select) {
                        kept.add(item);
                    }
                }
                yield kept;
            }
            case "map" -> {
                List<Object> mapped = new ArrayList<>();
                for (Object item : iterate(v)) {
                    if (kwargs.containsKey("attribute")) {
                        Object attr = attribute(item, str(kwargs.get("attribute")));
                        mapped.add(attr == UNDEFINED && kwargs.containsKey("default") ? kwargs.get("default") : attr);
                    } else {
                        String inner = str(args.getFirst());
                        if (!JinjaParser.FILTERS.contains(inner)) {
                            throw new UnsupportedTemplateException("the filter '" + inner + "' inside map()");
                        }
                        mapped.add(filter(inner, item, args.subList(1, args.size()), Map.of()));
                    }
                }
                yield mapped;
            }
            case "trim" -> pyStrip(str(v), true, true);
            case "length", "count" -> (long) length(v);
            case "upper" -> str(v).toUpperCase(Locale.ROOT);
            case "lower" -> str(v).toLowerCase(Locale.ROOT);
            case "capitalize" -> method(str(v), "capitalize", List.of());
            case "indent" -> {
                String pad = " ".repeat((int) (args.isEmpty() ? 4 : integer(args.getFirst(), "indent")));
                boolean first = args.size() > 1 && truthy(args.get(1));
                String indented = str(v).replace("\n", "\n" + pad);
                yield first ? pad + indented : indented;
            }
            case "title" -> title(str(v));
            case "default", "d" -> {
                boolean boolMode = args.size() > 1 && truthy(args.get(1));
                Object dflt = args.isEmpty() ? "" : args.getFirst();
                yield v == UNDEFINED || (boolMode && !truthy(v)) ? dflt : v;
            }
            case "join" -> {
                String sep = args.isEmpty() ? "" : str(args.getFirst());
                List<String> parts = new ArrayList<>();
                iterate(v).forEach(x -> parts.add(str(x)));
                yield String.join(sep, parts);
            }
            case "first" -> {
                var it = iterate(v).iterator();
                yield it.hasNext() ? it.next() : UNDEFINED;
            }
            case "last" -> {
                List<Object> l = new ArrayList<>();
                iterate(v).forEach(l::add);
                yield l.isEmpty() ? UNDEFINED : l.getLast();
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                List<Object> l = new ArrayList<>();
                iterate(v).forEach(l::add);
                yield l.reversed();
            }
            case "list" -> {
                List<Object> l = new ArrayList<>();
                iterate(v).forEach(l::add);
                yield l;
            }
            case "unique" -> {
                List<Object> l = new ArrayList<>(new LinkedHashSet<>(iterateToList(v)));
                yield l;
            }
            case "items" -> method(v, "items", List.of());
            case "tojson" -> json(v, kwargs.containsKey("indent") ? (int) integer(kwargs.get("indent"), "indent") : -1, 0);
            case "string" -> str(v);
            case "safe" -> v;
            case "int" -> v instanceof String s ? parseLongOr(s) : (long) number(v, "int");
            case "float" -> v instanceof String s ? Double.parseDouble(s.strip()) : number(v, "float");
            case "abs" -> v instanceof Long n ? Math.abs(n) : Math.abs(number(v, "abs"));
            case "round" -> (double) Math.round(number(v, "round"));
            case "replace" -> str(v).replace(str(args.get(0)), str(args.get(1)));
            default -> throw new UnsupportedTemplateException("the filter '|" + name + "'");
        };
    }

    private List<Object> iterateToList(Object v) {
        List<Object> l = new ArrayList<>();
        iterate(v).forEach(l::add);
        return l;
    }

    private static long parseLongOr(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private boolean test(Test t) {
        Object v = eval(t.target());
        List<Object> args = new ArrayList<>();
        t.args().forEach(a -> args.add(eval(a)));
        return test(t.name(), v, args) != t.negated();
    }

    private boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> v != UNDEFINED;
            case "undefined" -> v == UNDEFINED;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map;
            case "iterable" -> v instanceof List || v instanceof Map || v instanceof String;
            case "sequence" -> v instanceof List || v instanceof String || v instanceof Map;
            case "even" -> integer(v, "even") % 2 == 0;
            case "odd" -> integer(v, "odd") % 2 != 0;
            case "divisibleby" -> integer(v, "divisibleby") % integer(args.getFirst(), "divisibleby") == 0;
            case "eq", "equalto" -> pyEquals(v, args.getFirst());
            case "ne" -> !pyEquals(v, args.getFirst());
            case "in" -> contains(args.getFirst(), v);
            case "lt", "lessthan" -> compare(v, args.getFirst()) < 0;
            case "gt", "greaterthan" -> compare(v, args.getFirst()) > 0;
            case "le" -> compare(v, args.getFirst()) <= 0;
            case "ge" -> compare(v, args.getFirst()) >= 0;
            default -> throw new UnsupportedTemplateException("the test '" + name + "'");
        };
    }

    private Object binary(Binary b) {
        switch (b.op()) {
            case "and" -> {
                Object l = eval(b.left());
                return truthy(l) ? eval(b.right()) : l;
            }
            case "or" -> {
                Object l = eval(b.left());
                return truthy(l) ? l : eval(b.right());
            }
            default -> { }
        }
        Object l = eval(b.left());
        Object r = eval(b.right());
        return switch (b.op()) {
            case "==" -> pyEquals(l, r);
            case "!=" -> !pyEquals(l, r);
            case "<" -> compare(l, r) < 0;
            case ">" -> compare(l, r) > 0;
            case "<=" -> compare(l, r) <= 0;
            case ">=" -> compare(l, r) >= 0;
            case "in" -> contains(r, l);
            case "~" -> str(l) + str(r);
            case "+" -> {
                if (l instanceof String ls && r instanceof String rs) {
                    yield ls + rs;
                }
                if (l instanceof List<?> ll && r instanceof List<?> rl) {
                    List<Object> all = new ArrayList<>(ll);
                    all.addAll(rl);
                    yield all;
                }
                if (l instanceof Long x && r instanceof Long y) {
                    yield x + y;
                }
                if (isNumber(l) && isNumber(r)) {
                    yield number(l, "+") + number(r, "+");
                }
                throw new InvalidRequestException("chat template: cannot add " + typeName(l) + " and " + typeName(r)
                        + " (" + repr(l) + " + " + repr(r) + ")");
            }
            case "-" -> l instanceof Long x && r instanceof Long y ? (Object) (x - y) : (Object) (number(l, "-") - number(r, "-"));
            case "*" -> {
                if (l instanceof String s && r instanceof Long n) {
                    yield s.repeat((int) Math.max(0, n));
                }
                yield l instanceof Long x && r instanceof Long y ? (Object) (x * y) : (Object) (number(l, "*") * number(r, "*"));
            }
            case "/" -> number(l, "/") / number(r, "/");
            case "//" -> l instanceof Long x && r instanceof Long y ? (Object) Math.floorDiv(x, nonZero(y))
                    : (Object) Math.floor(number(l, "//") / number(r, "//"));
            case "%" -> {
                if (l instanceof String) {
                    throw new UnsupportedTemplateException("printf-style '%' string formatting");
                }
                yield l instanceof Long x && r instanceof Long y ? (Object) Math.floorMod(x, nonZero(y))
                        : (Object) (number(l, "%") % number(r, "%"));
            }
            default -> throw new UnsupportedTemplateException("the operator " + b.op());
        };
    }

    private static long nonZero(long y) {
        if (y == 0) {
            throw new InvalidRequestException("chat template: integer division or modulo by zero");
        }
        return y;
    }

    // ---- Python value semantics ----

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long n -> n != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> v != UNDEFINED;
        };
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    private static double number(Object v, String op) {
        return switch (v) {
            case Long n -> n;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            case null, default -> throw new InvalidRequestException("chat template: " + op + " needs a number, got "
                    + typeName(v) + " " + repr(v));
        };
    }

    private static long integer(Object v, String what) {
        return switch (v) {
            case Long n -> n;
            case Boolean b -> b ? 1 : 0;
            case null, default -> throw new InvalidRequestException("chat template: " + what + " needs an integer, got "
                    + typeName(v) + " " + repr(v));
        };
    }

    static boolean pyEquals(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return number(a, "==") == number(b, "==");
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int k = 0; k < x.size(); k++) {
                if (!pyEquals(x.get(k), y.get(k))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    private static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(number(a, "<"), number(b, "<"));
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        throw new InvalidRequestException("chat template: cannot compare " + typeName(a) + " with " + typeName(b));
    }

    private static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s -> s.contains(str(item));
            case List<?> l -> l.stream().anyMatch(x -> pyEquals(x, item));
            case Map<?, ?> m -> m.containsKey(item);
            case null, default -> {
                if (container == UNDEFINED) {
                    yield false;
                }
                throw new InvalidRequestException("chat template: 'in' needs a string, list or mapping, got " + typeName(container));
            }
        };
    }

    private static int length(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case null, default -> {
                if (v == UNDEFINED) {
                    yield 0;
                }
                throw new InvalidRequestException("chat template: " + typeName(v) + " has no length");
            }
        };
    }

    /** Python's {@code str()}. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case List<?> l -> repr(l);
            case Map<?, ?> m -> repr(m);
            default -> v == UNDEFINED ? "" : v.toString();
        };
    }

    /** Python's {@code repr()}. */
    static String repr(Object v) {
        return switch (v) {
            case String s -> "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
            case List<?> l -> {
                List<String> parts = new ArrayList<>();
                l.forEach(x -> parts.add(repr(x)));
                yield "[" + String.join(", ", parts) + "]";
            }
            case Map<?, ?> m -> {
                List<String> parts = new ArrayList<>();
                m.forEach((k, x) -> parts.add(repr(k) + ": " + repr(x)));
                yield "{" + String.join(", ", parts) + "}";
            }
            case null, default -> str(v);
        };
    }

    private static String typeName(Object v) {
        return switch (v) {
            case null -> "none";
            case String s -> "string";
            case Long n -> "integer";
            case Double d -> "float";
            case Boolean b -> "boolean";
            case List<?> l -> "list";
            case Map<?, ?> m -> "mapping";
            default -> v == UNDEFINED ? "undefined" : v.getClass().getSimpleName();
        };
    }

    /** JSON as Python's {@code json.dumps(v, ensure_ascii=False)} writes it (transformers' {@code tojson}). */
    private static String json(Object v, int indent, int depth) {
        return switch (v) {
            case null -> "null";
            case String s -> jsonString(s);
            case Boolean b -> b.toString();
            case Long n -> n.toString();
            case Double d -> d.toString();
            case List<?> l -> {
                List<String> parts = new ArrayList<>();
                l.forEach(x -> parts.add(json(x, indent, depth + 1)));
                yield container("[", "]", parts, indent, depth);
            }
            case Map<?, ?> m -> {
                List<String> parts = new ArrayList<>();
                m.forEach((k, x) -> parts.add(jsonString(str(k)) + ": " + json(x, indent, depth + 1)));
                yield container("{", "}", parts, indent, depth);
            }
            default -> v == UNDEFINED ? "null" : jsonString(v.toString());
        };
    }

    private static String container(String open, String close, List<String> parts, int indent, int depth) {
        if (parts.isEmpty()) {
            return open + close;
        }
        if (indent < 0) {
            return open + String.join(", ", parts) + close;
        }
        String pad = "\n" + " ".repeat(indent * (depth + 1));
        return open + pad + String.join("," + pad, parts) + "\n" + " ".repeat(indent * depth) + close;
    }

    private static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
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
                    if (c < 0x20) {
                        sb.append("\\u%04x".formatted((int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Python's {@code str.strip()}: Python's whitespace includes no-break spaces, Java's does not. */
    private static String pyStrip(String s, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && isPySpace(s.charAt(from))) {
            from++;
        }
        while (right && to > from && isPySpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean isPySpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    private static String stripChars(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && chars.indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (right && to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean start = true;
        for (char c : s.toCharArray()) {
            sb.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
            start = !Character.isLetter(c);
        }
        return sb.toString();
    }
}
