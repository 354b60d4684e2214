package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

import static dev.floe.runtime.tokenizer.jinja.Values.fail;
import static dev.floe.runtime.tokenizer.jinja.Values.isInt;
import static dev.floe.runtime.tokenizer.jinja.Values.isNumber;
import static dev.floe.runtime.tokenizer.jinja.Values.toDouble;
import static dev.floe.runtime.tokenizer.jinja.Values.toLong;
import static dev.floe.runtime.tokenizer.jinja.Values.typeName;

/** Python's arithmetic operators with its type rules and error messages ({@code 'a' + none} fails as in Python). */
final class Operators {

    private Operators() {}

    static Object arithmetic(String op, Object l, Object r) {
        return switch (op) {
            case "+" -> plus(l, r);
            case "-" -> numeric(op, l, r, Math::subtractExact, (x, y) -> x - y);
            case "*" -> times(l, r);
            case "/" -> {
                double d = toDouble(requireNumber(op, l, r), op);
                double e = toDouble(r, op);
                if (e == 0) {
                    throw fail("division by zero");
                }
                yield d / e;
            }
            case "//" -> {
                requireNumber(op, l, r);
                if (toDouble(r, op) == 0) {
                    throw fail("integer division or modulo by zero");
                }
                yield isInt(l) && isInt(r) ? (Object) Math.floorDiv(toLong(l, op), toLong(r, op))
                        : (Object) Math.floor(toDouble(l, op) / toDouble(r, op));
            }
            case "%" -> {
                if (l instanceof String s) {
                    yield Strings.percent(s, r);
                }
                requireNumber(op, l, r);
                if (toDouble(r, op) == 0) {
                    throw fail("integer division or modulo by zero");
                }
                if (isInt(l) && isInt(r)) {
                    yield Math.floorMod(toLong(l, op), toLong(r, op));
                }
                double x = toDouble(l, op);
                double y = toDouble(r, op);
                yield x - Math.floor(x / y) * y;
            }
            case "**" -> {
                requireNumber(op, l, r);
                if (isInt(l) && isInt(r) && toLong(r, op) >= 0) {
                    long result = 1;
                    long base = toLong(l, op);
                    for (long e = toLong(r, op); e > 0; e >>= 1) { // by squaring: 1 ** 10**18 must not loop
                        if ((e & 1) != 0) {
                            result = Math.multiplyExact(result, base);
                        }
                        if (e > 1) {
                            base = Math.abs(base) <= 1 ? base * base : Math.multiplyExact(base, base);
                        }
                    }
                    yield result;
                }
                yield Math.pow(toDouble(l, op), toDouble(r, op));
            }
            default -> throw new TemplateException.Unsupported("the operator " + op, 0);
        };
    }

    private static Object requireNumber(String op, Object l, Object r) {
        if (!isNumber(l) || !isNumber(r)) {
            throw fail("unsupported operand type(s) for " + op + ": '" + typeName(l) + "' and '" + typeName(r) + "'");
        }
        return l;
    }

    private interface LongOp {
        long apply(long x, long y);
    }

    private interface DoubleOp {
        double apply(double x, double y);
    }

    private static Object numeric(String op, Object l, Object r, LongOp ints, DoubleOp floats) {
        requireNumber(op, l, r);
        return isInt(l) && isInt(r) ? (Object) ints.apply(toLong(l, op), toLong(r, op))
                : (Object) floats.apply(toDouble(l, op), toDouble(r, op));
    }

    private static Object plus(Object l, Object r) {
        if (l instanceof String a) {
            if (r instanceof String b) {
                return a + b;
            }
            throw fail("can only concatenate str (not \"" + typeName(r) + "\") to str");
        }
        List<Object> x = Values.sequence(l);
        List<Object> y = Values.sequence(r);
        if (x != null) {
            if (y == null || (l instanceof Values.Tuple) != (r instanceof Values.Tuple)) {
                throw fail("can only concatenate " + typeName(l) + " (not \"" + typeName(r) + "\") to " + typeName(l));
            }
            List<Object> all = new ArrayList<>(x);
            all.addAll(y);
            return l instanceof Values.Tuple ? new Values.Tuple(all) : all;
        }
        return numeric("+", l, r, Math::addExact, Double::sum);
    }

    /** The most characters or items a repetition may make: a template must not exhaust the heap. */
    static final long MAX_REPEAT = 10_000_000;

    private static Object times(Object l, Object r) {
        if (l instanceof String s && isInt(r)) {
            return s.repeat(repeats(s.length(), toLong(r, "*")));
        }
        if (r instanceof String s && isInt(l)) {
            return s.repeat(repeats(s.length(), toLong(l, "*")));
        }
        List<Object> seq = Values.sequence(l);
        if (seq != null && isInt(r)) {
            List<Object> all = new ArrayList<>();
            for (long k = repeats(seq.size(), toLong(r, "*")); k > 0; k--) {
                all.addAll(seq);
            }
            return all;
        }
        return numeric("*", l, r, Math::multiplyExact, (x, y) -> x * y);
    }

    private static int repeats(int size, long times) {
        if (times <= 0) {
            return 0;
        }
        if (size > 0 && times > MAX_REPEAT / size) {
            throw fail("a repetition of " + size + " by " + times + " would exceed " + MAX_REPEAT + " elements");
        }
        return (int) Math.min(times, MAX_REPEAT);
    }
}
