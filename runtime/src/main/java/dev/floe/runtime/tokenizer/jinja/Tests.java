package dev.floe.runtime.tokenizer.jinja;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.floe.runtime.tokenizer.jinja.Values.UNDEFINED;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is string}, {@code n is divisibleby 3}, ...). */
final class Tests {

    private Tests() {}

    private static final Set<String> ALL = Set.of("odd", "even", "divisibleby", "defined", "undefined", "filter",
            "test", "none", "boolean", "false", "true", "integer", "float", "lower", "upper", "string", "mapping",
            "number", "sequence", "iterable", "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne",
            ">", "gt", "greaterthan", "ge", ">=", "<", "lt", "lessthan", "<=", "le");

    static boolean exists(String name) {
        return ALL.contains(name);
    }

    static boolean apply(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> v != UNDEFINED;
            case "undefined" -> v == UNDEFINED;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "number" -> Values.isNumber(v);
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map && !(v instanceof Values.Namespace);
            case "sequence" -> v instanceof String || Values.sequence(v) != null || v instanceof Map;
            case "iterable" -> v instanceof String || Values.sequence(v) != null || v instanceof Map || v == UNDEFINED;
            case "callable" -> v instanceof Values.Callable;
            case "escaped" -> false;
            case "lower" -> v instanceof String s && s.chars().anyMatch(Character::isLowerCase)
                    && s.chars().noneMatch(Character::isUpperCase);
            case "upper" -> v instanceof String s && s.chars().anyMatch(Character::isUpperCase)
                    && s.chars().noneMatch(Character::isLowerCase);
            case "odd" -> Values.toLong(v, "odd") % 2 != 0;
            case "even" -> Values.toLong(v, "even") % 2 == 0;
            case "divisibleby" -> Values.toLong(v, "divisibleby") % Values.toLong(arg(args, name), "divisibleby") == 0;
            case "sameas" -> v == arg(args, name) || v instanceof Boolean && v.equals(arg(args, name));
            case "in" -> Values.contains(arg(args, name), v);
            case "==", "eq", "equalto" -> Values.pyEquals(v, arg(args, name));
            case "!=", "ne" -> !Values.pyEquals(v, arg(args, name));
            case ">", "gt", "greaterthan" -> Values.compare(v, arg(args, name), ">") > 0;
            case ">=", "ge" -> Values.compare(v, arg(args, name), ">=") >= 0;
            case "<", "lt", "lessthan" -> Values.compare(v, arg(args, name), "<") < 0;
            case "<=", "le" -> Values.compare(v, arg(args, name), "<=") <= 0;
            case "filter" -> v instanceof String s && Filters.exists(s);
            case "test" -> v instanceof String s && exists(s);
            default -> throw new TemplateException.Unsupported("the test '" + name + "'", 0);
        };
    }

    private static Object arg(List<Object> args, String test) {
        if (args.isEmpty()) {
            throw Values.fail("the test '" + test + "' needs an argument");
        }
        return args.getFirst();
    }
}
