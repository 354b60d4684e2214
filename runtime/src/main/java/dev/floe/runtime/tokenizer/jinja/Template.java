package dev.floe.runtime.tokenizer.jinja;

import dev.floe.runtime.tokenizer.jinja.Ast.Node;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Jinja template as transformers renders chat templates: Jinja2's {@code ImmutableSandboxedEnvironment} with
 * {@code trim_blocks}, {@code lstrip_blocks}, the {@code loopcontrols} extension and the {@code generation} tag, a
 * {@code tojson} filter that is Python's {@code json.dumps} (with {@code ensure_ascii=False} by default, and
 * {@code indent}, {@code separators}, {@code sort_keys}), and the globals {@code raise_exception} and
 * {@code strftime_now}, plus Jinja's own {@code namespace}, {@code range} and {@code dict}.
 *
 * <p>Parsing checks the whole template: unknown statements, filters and tests fail here with the construct and line.
 * Rendering is thread-safe: each call has its own interpreter.
 */
public final class Template {

    private final List<Node> body;

    private Template(List<Node> body) {
        this.body = body;
    }

    /**
     * Parses a template.
     *
     * @throws TemplateException.Unsupported naming the construct and the template line
     */
    public static Template parse(String source) {
        Objects.requireNonNull(source, "source");
        return new Template(Parser.parse(source));
    }

    /**
     * Renders the template.
     *
     * @param variables the template's variables; values are {@code null}, Boolean, numbers, String, List, Map
     *                  (nested as JSON would be), converted to Python's types
     * @param clock     what {@code strftime_now} reads
     * @throws TemplateException.Raised when the template calls {@code raise_exception}
     * @throws TemplateException.Failed when rendering fails where Jinja2 fails too
     * @throws TemplateException.Unsupported when rendering reaches a method or filter Floe does not implement
     */
    public String render(Map<String, ?> variables, Clock clock) {
        Map<String, Object> globals = new LinkedHashMap<>();
        Interpreter[] self = new Interpreter[1];
        globals.put("raise_exception", (Values.Callable) (args, kwargs) -> {
            throw new TemplateException.Raised(args.isEmpty() ? "" : Values.str(args.getFirst()), self[0].line());
        });
        globals.put("strftime_now", (Values.Callable) (args, kwargs) ->
                Strftime.format(Values.str(args.isEmpty() ? "" : args.getFirst()), ZonedDateTime.now(clock)));
        globals.put("namespace", (Values.Callable) (args, kwargs) -> {
            Values.Namespace ns = new Values.Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.put(Values.str(k), v));
                }
            }
            ns.putAll(kwargs);
            return ns;
        });
        globals.put("dict", (Values.Callable) (args, kwargs) -> {
            Map<Object, Object> d = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> m) {
                d.putAll(m);
            }
            d.putAll(kwargs);
            return d;
        });
        globals.put("range", (Values.Callable) (args, kwargs) -> range(args));
        variables.forEach((k, v) -> globals.put(k, fromJava(v)));
        Interpreter interpreter = new Interpreter(globals);
        self[0] = interpreter;
        return interpreter.render(body);
    }

    private static List<Object> range(List<Object> args) {
        if (args.isEmpty() || args.size() > 3) {
            throw Values.fail("range expected 1 to 3 arguments, got " + args.size());
        }
        long start = args.size() > 1 ? Values.toLong(args.get(0), "range") : 0;
        long stop = Values.toLong(args.get(args.size() > 1 ? 1 : 0), "range");
        long step = args.size() > 2 ? Values.toLong(args.get(2), "range") : 1;
        if (step == 0) {
            throw Values.fail("range() arg 3 must not be zero");
        }
        List<Object> r = new ArrayList<>();
        for (long k = start; step > 0 ? k < stop : k > stop; k += step) {
            if (r.size() >= 100_000) {
                throw Values.fail("range too big");
            }
            r.add(k);
        }
        return r;
    }

    /** Converts Java values (Integer, arrays of collections, ...) to the template's Python types. */
    static Object fromJava(Object v) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long n -> n;
            case Integer n -> n.longValue();
            case Short n -> n.longValue();
            case Byte n -> n.longValue();
            case Double d -> d;
            case Float f -> Double.parseDouble(f.toString());
            case Map<?, ?> m -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put(fromJava(k), fromJava(x)));
                yield out;
            }
            case Collection<?> c -> {
                List<Object> out = new ArrayList<>();
                c.forEach(x -> out.add(fromJava(x)));
                yield out;
            }
            case CharSequence cs -> cs.toString();
            default -> throw new IllegalArgumentException("a template variable cannot hold a " + v.getClass().getName()
                    + " (use null, Boolean, numbers, String, List or Map)");
        };
    }
}
