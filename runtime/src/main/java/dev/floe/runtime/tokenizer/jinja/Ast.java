package dev.floe.runtime.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/** The parsed template: statements ({@link Node}) and expressions ({@link Expr}), each with its template line. */
final class Ast {

    private Ast() {}

    sealed interface Node {
        int line();
    }

    record Text(int line, String text) implements Node {}

    record Output(int line, Expr expr) implements Node {}

    record If(int line, List<Expr> conditions, List<List<Node>> bodies, List<Node> otherwise) implements Node {}

    record For(int line, Target target, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise) implements Node {}

    /** {@code {% set target = value %}}. */
    record Assign(int line, Target target, Expr value) implements Node {}

    /** {@code {% set name | filters %}body{% endset %}}: the rendered body, through the filters. */
    record AssignBlock(int line, Target target, List<Node> body, List<FilterCall> filters) implements Node {}

    /** {@code {% macro name(params) %}body{% endmacro %}}. */
    record MacroDef(int line, String name, List<Param> params, List<Node> body) implements Node {}

    /** {@code {% call(callerParams) macro(args) %}body{% endcall %}}: the body becomes {@code caller()}. */
    record CallBlock(int line, Call call, List<Param> callerParams, List<Node> body) implements Node {}

    /** {@code {% filter f %}body{% endfilter %}}. */
    record FilterBlock(int line, List<FilterCall> filters, List<Node> body) implements Node {}

    /** {@code {% with a = 1 %}body{% endwith %}}: a scope with its own variables. */
    record With(int line, List<Target> targets, List<Expr> values, List<Node> body) implements Node {}

    record Break(int line) implements Node {}

    record Continue(int line) implements Node {}

    /** transformers' {@code {% generation %}} tag, which marks assistant text and renders its body unchanged. */
    record Generation(int line, List<Node> body) implements Node {}

    /** An assignment target: a name, a {@code namespace} attribute, or a tuple of names. */
    sealed interface Target {}

    record NameTarget(String name) implements Target {}

    record AttrTarget(String name, String attribute) implements Target {}

    record TupleTarget(List<Target> items) implements Target {}

    record Param(String name, Expr defaultValue) {}

    record FilterCall(String name, List<Expr> args, Map<String, Expr> kwargs) {}

    sealed interface Expr {}

    record Literal(Object value) implements Expr {}

    record Var(String name) implements Expr {}

    record Attr(Expr target, String name) implements Expr {}

    record Index(Expr target, Expr index) implements Expr {}

    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr function, List<Expr> args, Map<String, Expr> kwargs, Expr starArgs, Expr starKwargs) implements Expr {}

    record Filter(Expr target, FilterCall filter) implements Expr {}

    record Test(Expr target, String name, boolean negated, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Binary(String op, Expr left, Expr right) implements Expr {}

    record Unary(String op, Expr operand) implements Expr {}

    record Conditional(Expr then, Expr condition, Expr otherwise) implements Expr {}

    record ListExpr(List<Expr> items, boolean tuple) implements Expr {}

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {}
}
