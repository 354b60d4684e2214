package dev.floe.runtime.tokenizer.jinja;

import dev.floe.runtime.tokenizer.jinja.Ast.Assign;
import dev.floe.runtime.tokenizer.jinja.Ast.AssignBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.AttrTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.Break;
import dev.floe.runtime.tokenizer.jinja.Ast.Call;
import dev.floe.runtime.tokenizer.jinja.Ast.CallBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.Continue;
import dev.floe.runtime.tokenizer.jinja.Ast.Expr;
import dev.floe.runtime.tokenizer.jinja.Ast.FilterBlock;
import dev.floe.runtime.tokenizer.jinja.Ast.FilterCall;
import dev.floe.runtime.tokenizer.jinja.Ast.For;
import dev.floe.runtime.tokenizer.jinja.Ast.Generation;
import dev.floe.runtime.tokenizer.jinja.Ast.If;
import dev.floe.runtime.tokenizer.jinja.Ast.MacroDef;
import dev.floe.runtime.tokenizer.jinja.Ast.NameTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.Node;
import dev.floe.runtime.tokenizer.jinja.Ast.Output;
import dev.floe.runtime.tokenizer.jinja.Ast.Param;
import dev.floe.runtime.tokenizer.jinja.Ast.Target;
import dev.floe.runtime.tokenizer.jinja.Ast.Text;
import dev.floe.runtime.tokenizer.jinja.Ast.TupleTarget;
import dev.floe.runtime.tokenizer.jinja.Ast.With;
import dev.floe.runtime.tokenizer.jinja.Lexer.Part;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds the statement tree from the lexer's parts: {@code if}, {@code for} (with {@code else}, a filter condition
 * and loop controls), {@code set} (expression, block and namespace-attribute forms), {@code macro}, {@code call},
 * {@code filter}, {@code with} and transformers' {@code generation}. Any other statement ({@code include},
 * {@code extends}, {@code import}, {@code do}, ...) is an {@link TemplateException.Unsupported} that names it;
 * Jinja2 in transformers' environment rejects those too, having neither a loader nor the extensions they need.
 */
final class Parser {

    private final List<Part> parts;
    private int at;
    private int loopDepth;

    private Parser(List<Part> parts) {
        this.parts = parts;
    }

    static List<Node> parse(String source) {
        Parser p = new Parser(Lexer.lex(source));
        List<Node> body = p.nodes(Set.of());
        if (p.at < p.parts.size()) {
            Part stray = p.parts.get(p.at);
            throw new TemplateException.Unsupported("unexpected {% " + stray.text().strip() + " %}", stray.line());
        }
        return body;
    }

    /** Parses nodes until a statement whose first word is in {@code stops} (left unconsumed). */
    private List<Node> nodes(Set<String> stops) {
        List<Node> out = new ArrayList<>();
        while (at < parts.size()) {
            Part p = parts.get(at);
            switch (p.kind()) {
                case TEXT -> {
                    out.add(new Text(p.line(), p.text()));
                    at++;
                }
                case OUTPUT -> {
                    ExprParser e = new ExprParser(p.text(), p.line());
                    out.add(new Output(p.line(), e.tuple()));
                    e.end();
                    at++;
                }
                case STATEMENT -> {
                    ExprParser e = new ExprParser(p.text(), p.line());
                    String word = e.peekName();
                    if (stops.contains(word)) {
                        return out;
                    }
                    at++;
                    out.add(statement(word, e, p));
                }
            }
        }
        if (!stops.isEmpty()) {
            throw new TemplateException.Unsupported("the template ends inside a block: {% "
                    + String.join(" %} or {% ", stops) + " %} is missing", parts.isEmpty() ? 0 : parts.getLast().line());
        }
        return out;
    }

    private Node statement(String word, ExprParser e, Part p) {
        int line = p.line();
        e.name();
        switch (word) {
            case "if" -> {
                List<Expr> conds = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                conds.add(e.tuple());
                e.end();
                List<Node> otherwise = List.of();
                while (true) {
                    bodies.add(nodes(Set.of("elif", "else", "endif")));
                    ExprParser tag = closing(p, "endif");
                    String w = tag.name();
                    if (w.equals("elif")) {
                        conds.add(tag.tuple());
                        tag.end();
                    } else if (w.equals("else")) {
                        tag.end();
                        otherwise = nodes(Set.of("endif"));
                        closing(p, "endif").name();
                        break;
                    } else {
                        tag.end();
                        break;
                    }
                }
                return new If(line, conds, bodies, otherwise);
            }
            case "for" -> {
                Target target = target(e);
                e.expectName("in");
                Expr iterable = forIterable(e);
                Expr filter = e.acceptName("if") ? e.tuple() : null;
                if (e.acceptName("recursive")) {
                    throw new TemplateException.Unsupported("recursive for loops", line);
                }
                e.end();
                loopDepth++;
                List<Node> body = nodes(Set.of("else", "endfor"));
                loopDepth--;
                List<Node> otherwise = List.of();
                ExprParser tag = closing(p, "endfor");
                if (tag.name().equals("else")) {
                    tag.end();
                    otherwise = nodes(Set.of("endfor"));
                    closing(p, "endfor").name();
                }
                return new For(line, target, iterable, filter, body, otherwise);
            }
            case "set" -> {
                Target target = target(e);
                if (e.accept("=")) {
                    Expr value = e.tuple();
                    e.end();
                    return new Assign(line, target, value);
                }
                List<FilterCall> filters = new ArrayList<>();
                while (e.accept("|")) {
                    filters.add(e.filterCall());
                }
                e.end();
                List<Node> body = nodes(Set.of("endset"));
                closing(p, "endset").name();
                return new AssignBlock(line, target, body, filters);
            }
            case "macro" -> {
                String name = e.name();
                e.expect("(");
                List<Param> params = params(e);
                e.end();
                int outerLoops = loopDepth;
                loopDepth = 0;
                List<Node> body = nodes(Set.of("endmacro"));
                loopDepth = outerLoops;
                closing(p, "endmacro").name();
                return new MacroDef(line, name, params, body);
            }
            case "call" -> {
                List<Param> callerParams = e.accept("(") ? params(e) : List.of();
                Expr call = e.expression();
                if (!(call instanceof Call c)) {
                    throw new TemplateException.Unsupported("{% call %} needs a macro call, like {% call m() %}", line);
                }
                e.end();
                List<Node> body = nodes(Set.of("endcall"));
                closing(p, "endcall").name();
                return new CallBlock(line, c, callerParams, body);
            }
            case "filter" -> {
                List<FilterCall> filters = new ArrayList<>();
                do {
                    filters.add(e.filterCall());
                } while (e.accept("|"));
                e.end();
                List<Node> body = nodes(Set.of("endfilter"));
                closing(p, "endfilter").name();
                return new FilterBlock(line, filters, body);
            }
            case "with" -> {
                List<Target> targets = new ArrayList<>();
                List<Expr> values = new ArrayList<>();
                while (!e.atEnd()) {
                    if (!targets.isEmpty()) {
                        e.expect(",");
                    }
                    targets.add(target(e));
                    e.expect("=");
                    values.add(e.expression());
                }
                List<Node> body = nodes(Set.of("endwith"));
                closing(p, "endwith").name();
                return new With(line, targets, values, body);
            }
            case "break", "continue" -> {
                e.end();
                if (loopDepth == 0) {
                    throw new TemplateException.Unsupported("{% " + word + " %} outside a for loop", line);
                }
                return word.equals("break") ? new Break(line) : new Continue(line);
            }
            case "generation" -> {
                e.end();
                List<Node> body = nodes(Set.of("endgeneration"));
                closing(p, "endgeneration").name();
                return new Generation(line, body);
            }
            default -> throw new TemplateException.Unsupported("the {% " + word + " %} statement"
                    + (Set.of("include", "import", "from", "extends", "block").contains(word)
                    ? " (chat templates are rendered without a template loader)" : ""), line);
        }
    }

    /** The iterable of a for loop: a tuple-capable expression without a trailing conditional (that is the filter). */
    private static Expr forIterable(ExprParser e) {
        Expr first = e.orExpression();
        if (!e.accept(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        do {
            items.add(e.orExpression());
        } while (e.accept(","));
        return new Ast.ListExpr(items, true);
    }

    private static Target target(ExprParser e) {
        List<Target> items = new ArrayList<>();
        boolean parenthesized = e.accept("(");
        do {
            String name = e.name();
            items.add(e.accept(".") ? new AttrTarget(name, e.name()) : new NameTarget(name));
        } while (e.accept(","));
        if (parenthesized) {
            e.expect(")");
        }
        return items.size() == 1 && !parenthesized ? items.getFirst() : new TupleTarget(items);
    }

    private static List<Param> params(ExprParser e) {
        List<Param> params = new ArrayList<>();
        while (!e.accept(")")) {
            String name = e.name();
            Expr dflt = e.accept("=") ? e.expression() : null;
            params.add(new Param(name, dflt));
            if (!e.accept(",")) {
                e.expect(")");
                break;
            }
        }
        return params;
    }

    /** The parser of the statement that continues or ends a block opened by {@code opener}. */
    private ExprParser closing(Part opener, String end) {
        if (at >= parts.size()) {
            throw new TemplateException.Unsupported("{% " + opener.text().strip() + " %} without {% " + end + " %}",
                    opener.line());
        }
        Part p = parts.get(at++);
        return new ExprParser(p.text(), p.line());
    }
}
