package dev.floe.runtime.tokenizer.jinja;

import dev.floe.runtime.tokenizer.jinja.Ast.Assign;
import dev.floe.runtime.tokenizer.jinja.Ast.AssignBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.Attr;
import dev.floe.runtime.tokenizer.jinja.Ast.AttrTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.Binary;
import dev.floe.runtime.tokenizer.jinja.Ast.Break;
import dev.floe.runtime.tokenizer.jinja.Ast.Call;
import dev.floe.runtime.tokenizer.jinja.Ast.CallBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.Conditional;
import dev.floe.runtime.tokenizer.jinja.Ast.Continue;
import dev.floe.runtime.tokenizer.jinja.Ast.DictExpr;
import dev.floe.runtime.tokenizer.jinja.Ast.Expr;
import dev.floe.runtime.tokenizer.jinja.Ast.Filter;
import dev.floe.runtime.tokenizer.jinja.Ast.FilterBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.FilterCall;
import dev.floe.runtime.tokenizer.jinja.Ast.For;
import dev.floe.runtime.tokenizer.jinja.Ast.Generation;
import dev.floe.runtime.tokenizer.jinja.Ast.If;
import dev.floe.runtime.tokenizer.jinja.Ast.Index;
import dev.floe.runtime.tokenizer.jinja.Ast.ListExpr;
import dev.floe.runtime.tokenizer.jinja.Ast.Literal;
import dev.floe.runtime.tokenizer.jinja.Ast.MacroDef;
import dev.floe.runtime.tokenizer.jinja.Ast.NameTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.Node;
import dev.floe.runtime.tokenizer.jinja.Ast.Output;
import dev.floe.runtime.tokenizer.jinja.Ast.Param;
import dev.floe.runtime.tokenizer.jinja.Ast.Slice;
import dev.floe.runtime.tokenizer.jinja.Ast.Target;
import dev.floe.runtime.tokenizer.jinja.Ast.Test;
import dev.floe.runtime.tokenizer.jinja.Ast.Text;
import dev.floe.runtime.tokenizer.jinja.Ast.TupleTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.Unary;
import dev.floe.runtime.tokenizer.jinja.Ast.Var;
import dev.floe.runtime.tokenizer.jinja.Ast.With;
import dev.floe.runtime.tokenizer.jinja.Values.Failed;
import dev.floe.runtime.tokenizer.jinja.Values.Namespace;
import dev.floe.runtime.tokenizer.jinja.Values.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.floe.runtime.tokenizer.jinja.Values.UNDEFINED;
import static dev.floe.runtime.tokenizer.jinja.Values.fail;
import static dev.floe.runtime.tokenizer.jinja.Values.str;
import static dev.floe.runtime.tokenizer.jinja.Values.truthy;

/**
 * Runs a parsed template. Scopes follow Jinja2: a for-loop iteration, a macro call and a {@code with} block get their
 * own frame, {@code if} does not; macros see the frame they were defined in (the template's top level for top-level
 * macros, so top-level {@code set}s made before the call are visible) and {@code caller()} sees the call site.
 */
final class Interpreter implements Filters.Lookup {

    /** One scope of variables; lookups walk up to the top level and then the globals. */
    private static final class Frame {
        final Map<String, Object> vars = new HashMap<>();
        final Frame parent;

        Frame(Frame parent) {
            this.parent = parent;
        }
    }

    private static final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private final Map<String, Object> globals;
    private Frame frame = new Frame(null);
    private StringBuilder out = new StringBuilder();
    private int line;

    Interpreter(Map<String, Object> globals) {
        this.globals = globals;
    }

    String render(List<Node> body) {
        try {
            exec(body);
            return out.toString();
        } catch (Failed e) {
            throw new TemplateException.Failed(e.getMessage(), line);
        } catch (TemplateException.Unsupported e) {
            throw e.line() > 0 ? e : new TemplateException.Unsupported(e.getMessage(), line);
        } catch (StackOverflowError e) {
            throw new TemplateException.Failed("the template recurses too deeply", line);
        } catch (ArithmeticException e) {
            // Python's integers are unbounded; these are 64-bit, and no chat template comes near the limit
            throw new TemplateException.Failed("integer overflow: " + e.getMessage(), line);
        }
    }

    int line() {
        return line;
    }

    // ---- statements ----

    private void exec(List<Node> nodes) {
        for (Node n : nodes) {
            line = n.line();
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
            case Assign a -> assign(a.target(), eval(a.value()));
            case AssignBlock a -> {
                Object v = capture(a.body(), frame);
                for (FilterCall f : a.filters()) {
                    v = filter(f, v);
                }
                assign(a.target(), v);
            }
            case MacroDef m -> frame.vars.put(m.name(), macro(m.name(), m.params(), m.body(), frame));
            case CallBlock c -> {
                Values.Macro caller = macro("caller", c.callerParams(), c.body(), frame);
                out.append(str(call(c.call(), caller)));
            }
            case FilterBlock f -> {
                Object v = capture(f.body(), frame);
                for (FilterCall fc : f.filters()) {
                    v = filter(fc, v);
                }
                out.append(str(v));
            }
            case With w -> {
                Frame inner = new Frame(frame);
                List<Object> values = new ArrayList<>();
                w.values().forEach(e -> values.add(eval(e)));
                Frame outer = frame;
                frame = inner;
                try {
                    for (int k = 0; k < values.size(); k++) {
                        assign(w.targets().get(k), values.get(k));
                    }
                    exec(w.body());
                } finally {
                    frame = outer;
                }
            }
            case Break b -> throw new LoopControl(true);
            case Continue c -> throw new LoopControl(false);
            case Generation g -> exec(g.body());
        }
    }

    /** Renders a body into a string in a new frame under {@code parent}. */
    private String capture(List<Node> body, Frame parent) {
        StringBuilder saved = out;
        Frame outer = frame;
        out = new StringBuilder();
        frame = new Frame(parent);
        try {
            exec(body);
            return out.toString();
        } finally {
            out = saved;
            frame = outer;
        }
    }

    private void assign(Target target, Object value) {
        switch (target) {
            case NameTarget n -> frame.vars.put(n.name(), value);
            case AttrTarget a -> {
                if (lookup(a.name()) instanceof Namespace ns) {
                    ns.put(a.attribute(), value);
                } else {
                    throw fail("cannot assign attribute on non-namespace object ('" + a.name() + "' is "
                            + Values.typeName(lookup(a.name())) + ")");
                }
            }
            case TupleTarget t -> {
                List<Object> items = Values.iterate(value);
                if (items.size() != t.items().size()) {
                    throw fail((items.size() > t.items().size() ? "too many values to unpack" : "not enough values to unpack")
                            + " (expected " + t.items().size() + ", got " + items.size() + ")");
                }
                for (int k = 0; k < items.size(); k++) {
                    assign(t.items().get(k), items.get(k));
                }
            }
        }
    }

    private void loop(For f) {
        List<Object> all = Values.iterate(eval(f.iterable()));
        Frame outer = frame;
        List<Object> items = new ArrayList<>();
        if (f.filter() == null) {
            items.addAll(all);
        } else {
            for (Object item : all) {
                frame = new Frame(outer);
                try {
                    assign(f.target(), item);
                    if (truthy(eval(f.filter()))) {
                        items.add(item);
                    }
                } finally {
                    frame = outer;
                }
            }
        }
        if (items.isEmpty()) {
            exec(f.otherwise());
            return;
        }
        Object[] lastChanged = {UNDEFINED};
        for (int k = 0; k < items.size(); k++) {
            Map<String, Object> loop = new LinkedHashMap<>();
            int n = items.size();
            loop.put("index", (long) k + 1);
            loop.put("index0", (long) k);
            loop.put("revindex", (long) (n - k));
            loop.put("revindex0", (long) (n - k - 1));
            loop.put("first", k == 0);
            loop.put("last", k == n - 1);
            loop.put("length", (long) n);
            loop.put("depth", 1L);
            loop.put("depth0", 0L);
            loop.put("previtem", k > 0 ? items.get(k - 1) : UNDEFINED);
            loop.put("nextitem", k + 1 < n ? items.get(k + 1) : UNDEFINED);
            int index = k;
            loop.put("cycle", (Values.Callable) (args, kwargs) -> {
                if (args.isEmpty()) {
                    throw fail("no items for cycling given");
                }
                return args.get(index % args.size());
            });
            loop.put("changed", (Values.Callable) (args, kwargs) -> {
                boolean changed = !Values.pyEquals(lastChanged[0], args);
                lastChanged[0] = args;
                return changed;
            });
            frame = new Frame(outer);
            frame.vars.put("loop", loop);
            try {
                assign(f.target(), items.get(k));
                exec(f.body());
            } catch (LoopControl c) {
                if (c.isBreak) {
                    break;
                }
            } finally {
                frame = outer;
            }
        }
    }

    private Values.Macro macro(String name, List<Param> params, List<Node> body, Frame closure) {
        return new Values.Macro() {
            @Override public String name() {
                return name;
            }

            @Override public Object call(List<Object> args, Map<String, Object> kwargs) {
                Frame outer = frame;
                StringBuilder saved = out;
                int savedLine = line;
                frame = new Frame(closure);
                out = new StringBuilder();
                try {
                    Map<String, Object> extra = new LinkedHashMap<>(kwargs);
                    for (int k = 0; k < params.size(); k++) {
                        Param p = params.get(k);
                        Object v;
                        if (k < args.size()) {
                            v = args.get(k);
                        } else if (extra.containsKey(p.name())) {
                            v = extra.remove(p.name());
                        } else {
                            v = p.defaultValue() == null ? UNDEFINED : eval(p.defaultValue());
                        }
                        frame.vars.put(p.name(), v);
                    }
                    if (extra.containsKey("caller")) {
                        frame.vars.put("caller", extra.remove("caller"));
                    }
                    frame.vars.put("varargs", new Tuple(args.size() > params.size()
                            ? List.copyOf(args.subList(params.size(), args.size())) : List.of()));
                    frame.vars.put("kwargs", new LinkedHashMap<Object, Object>(extra));
                    exec(body);
                    return out.toString();
                } finally {
                    frame = outer;
                    out = saved;
                    line = savedLine;
                }
            }
        };
    }

    // ---- expressions ----

    private Object lookup(String name) {
        for (Frame f = frame; f != null; f = f.parent) {
            if (f.vars.containsKey(name)) {
                return f.vars.get(name);
            }
        }
        return globals.getOrDefault(name, UNDEFINED);
    }

    Object eval(Expr e) {
        return switch (e) {
            case Literal l -> l.value();
            case Var v -> lookup(v.name());
            case Attr a -> getattr(eval(a.target()), a.name());
            case Index i -> getitem(eval(i.target()), eval(i.index()));
            case Slice s -> slice(eval(s.target()), s);
            case Call c -> call(c, null);
            case Filter f -> filter(f.filter(), eval(f.target()));
            case Test t -> {
                Object v = eval(t.target());
                List<Object> args = new ArrayList<>();
                t.args().forEach(a -> args.add(eval(a)));
                yield checked("the test '" + t.name() + "'", args, () -> Tests.apply(t.name(), v, args)) != t.negated();
            }
            case Binary b -> binary(b);
            case Unary u -> switch (u.op()) {
                case "not" -> !truthy(eval(u.operand()));
                case "-" -> {
                    Object v = eval(u.operand());
                    yield v instanceof Long n ? (Object) (-n) : (Object) (-Values.toDouble(v, "unary -"));
                }
                default -> {
                    Object v = eval(u.operand());
                    Values.toDouble(v, "unary +");
                    yield v instanceof Boolean b ? (Object) (b ? 1L : 0L) : v;
                }
            };
            case Conditional c -> truthy(eval(c.condition())) ? eval(c.then())
                    : c.otherwise() == null ? UNDEFINED : eval(c.otherwise());
            case ListExpr l -> {
                List<Object> items = new ArrayList<>();
                l.items().forEach(x -> items.add(eval(x)));
                yield l.tuple() ? new Tuple(items) : items;
            }
            case DictExpr d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) {
                    Object key = eval(d.keys().get(k));
                    Object value = eval(d.values().get(k));
                    // Python keys that compare equal are one key (1, 1.0 and True): the first spelling stays
                    Object existing = Values.isNumber(key)
                            ? map.keySet().stream().filter(x -> Values.pyEquals(x, key)).findFirst().orElse(key) : key;
                    map.put(existing, value);
                }
                yield map;
            }
        };
    }

    private Object filter(FilterCall f, Object value) {
        List<Object> args = new ArrayList<>();
        f.args().forEach(a -> args.add(eval(a)));
        Map<String, Object> kwargs = new LinkedHashMap<>();
        f.kwargs().forEach((k, x) -> kwargs.put(k, eval(x)));
        return checked("the filter '" + f.name() + "'", args, () -> Filters.apply(this, f.name(), value, args, kwargs));
    }

    /**
     * Runs a filter, test or method, turning a missing or mistyped argument (which Python reports as a TypeError)
     * into a render failure that names it.
     */
    private static <T> T checked(String what, List<Object> args, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (IndexOutOfBoundsException | java.util.NoSuchElementException | ClassCastException
                 | NullPointerException | IllegalArgumentException e) {
            throw fail(what + " cannot take the arguments " + Values.repr(new Tuple(args)));
        }
    }

    /** Jinja2's {@code getattr}: a method or attribute first, then the item of that name. */
    Object getattr(Object target, String name) {
        if (target == UNDEFINED) {
            throw fail("an undefined value has no attribute '" + name + "'");
        }
        Methods.checkImplemented(target, name);
        if (Methods.has(target, name)) {
            return new Methods.Bound(target, name);
        }
        if (target instanceof Map<?, ?> m) {
            return m.containsKey(name) ? m.get(name) : UNDEFINED;
        }
        return UNDEFINED;
    }

    /** Jinja2's {@code getitem}: the item first, then the attribute of that name. */
    @Override public Object getitem(Object target, Object key) {
        if (target == UNDEFINED) {
            throw fail("an undefined value has no item " + Values.repr(key));
        }
        if (target instanceof Map<?, ?> m) {
            Object k = key instanceof Integer n ? (Object) n.longValue() : key;
            if (m.containsKey(k)) {
                return m.get(k);
            }
            return key instanceof String s ? getattr(target, s) : UNDEFINED;
        }
        List<Object> seq = Values.sequence(target);
        if ((seq != null || target instanceof String) && Values.isInt(key)) {
            long n = Values.toLong(key, "index");
            if (target instanceof String s) {
                int len = s.codePointCount(0, s.length());
                long k = n < 0 ? n + len : n;
                return k >= 0 && k < len ? Character.toString(s.codePointAt(s.offsetByCodePoints(0, (int) k))) : UNDEFINED;
            }
            long k = n < 0 ? n + seq.size() : n;
            return k >= 0 && k < seq.size() ? seq.get((int) k) : UNDEFINED;
        }
        return key instanceof String s ? getattr(target, s) : UNDEFINED;
    }

    private Object slice(Object target, Slice s) {
        List<Object> seq = Values.sequence(target);
        List<Object> items = seq != null ? seq : target instanceof String str ? Values.iterate(str) : null;
        if (items == null) {
            throw fail("'" + Values.typeName(target) + "' object is not subscriptable");
        }
        int size = items.size();
        long step = s.step() == null ? 1 : Values.toLong(eval(s.step()), "slice");
        if (step == 0) {
            throw fail("slice step cannot be zero");
        }
        Object start = s.start() == null ? null : eval(s.start());
        Object stop = s.stop() == null ? null : eval(s.stop());
        long lo = bound(start, size, step > 0 ? 0 : size - 1, step);
        long hi = bound(stop, size, step > 0 ? size : -1, step);
        List<Object> picked = new ArrayList<>();
        for (long k = lo; step > 0 ? k < hi : k > hi; k += step) {
            picked.add(items.get((int) k));
        }
        if (target instanceof String) {
            StringBuilder sb = new StringBuilder();
            picked.forEach(x -> sb.append((String) x));
            return sb.toString();
        }
        return target instanceof Tuple ? new Tuple(picked) : picked;
    }

    private static long bound(Object v, int size, long dflt, long step) {
        if (v == null) {
            return dflt;
        }
        long n = Values.toLong(v, "slice");
        long k = n < 0 ? n + size : n;
        return step > 0 ? Math.clamp(k, 0, size) : Math.clamp(k, -1, size - 1);
    }

    private Object call(Call c, Values.Macro caller) {
        Object function = eval(c.function());
        List<Object> args = new ArrayList<>();
        c.args().forEach(a -> args.add(eval(a)));
        if (c.starArgs() != null) {
            args.addAll(Values.iterate(eval(c.starArgs())));
        }
        Map<String, Object> kwargs = new LinkedHashMap<>();
        c.kwargs().forEach((k, x) -> kwargs.put(k, eval(x)));
        if (c.starKwargs() != null && eval(c.starKwargs()) instanceof Map<?, ?> m) {
            m.forEach((k, x) -> kwargs.put(str(k), x));
        }
        if (caller != null) {
            kwargs.put("caller", caller);
        }
        if (function instanceof Methods.Bound m) {
            return checked("the method ." + m.name() + "()", args, () -> m.call(args, kwargs));
        }
        if (function instanceof Values.Callable f) {
            return f.call(args, kwargs);
        }
        if (function == UNDEFINED) {
            throw fail(describe(c.function()) + " is undefined");
        }
        throw fail("'" + Values.typeName(function) + "' object is not callable");
    }

    private static String describe(Expr e) {
        return switch (e) {
            case Var v -> "'" + v.name() + "'";
            case Attr a -> "'" + a.name() + "'";
            default -> "the called value";
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
            case "==" -> Values.pyEquals(l, r);
            case "!=" -> !Values.pyEquals(l, r);
            case "<" -> Values.compare(defined(l), defined(r), "<") < 0;
            case ">" -> Values.compare(defined(l), defined(r), ">") > 0;
            case "<=" -> Values.compare(defined(l), defined(r), "<=") <= 0;
            case ">=" -> Values.compare(defined(l), defined(r), ">=") >= 0;
            case "in" -> Values.contains(r, l);
            case "~" -> str(l) + str(r);
            default -> Operators.arithmetic(b.op(), defined(l), defined(r));
        };
    }

    private static Object defined(Object v) {
        if (v == UNDEFINED) {
            throw fail("an undefined value was used in an operation");
        }
        return v;
    }
}
