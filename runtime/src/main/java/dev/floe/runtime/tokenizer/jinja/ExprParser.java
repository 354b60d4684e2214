package dev.floe.runtime.tokenizer.jinja;

import dev.floe.runtime.tokenizer.jinja.Ast.Attr;
import dev.floe.runtime.tokenizer.jinja.Ast.Binary;
import dev.floe.runtime.tokenizer.jinja.Ast.Call;
import dev.floe.runtime.tokenizer.jinja.Ast.Conditional;
import dev.floe.runtime.tokenizer.jinja.Ast.DictExpr;
import dev.floe.runtime.tokenizer.jinja.Ast.Expr;
import dev.floe.runtime.tokenizer.jinja.Ast.Filter;
import dev.floe.runtime.tokenizer.jinja.Ast.FilterCall;
import dev.floe.runtime.tokenizer.jinja.Ast.Index;
import dev.floe.runtime.tokenizer.jinja.Ast.ListExpr;
import dev.floe.runtime.tokenizer.jinja.Ast.Literal;
import dev.floe.runtime.tokenizer.jinja.Ast.Slice;
import dev.floe.runtime.tokenizer.jinja.Ast.Test;
import dev.floe.runtime.tokenizer.jinja.Ast.Unary;
import dev.floe.runtime.tokenizer.jinja.Ast.Var;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A recursive-descent parser of one tag's tokens with Jinja2's grammar and precedence: conditional expressions,
 * {@code or}, {@code and}, {@code not}, comparisons (with {@code in}, {@code not in}), {@code + -}, {@code ~},
 * {@code * / // %}, {@code **}, unary minus, then primaries with attributes, subscripts, slices, calls, filters and
 * tests. Unknown filters and tests are rejected here, as Jinja2 rejects them when it compiles a template.
 */
final class ExprParser {

    /** A token: n(ame), s(tring), i(nt), f(loat), o(perator) or e(nd of tag). */
    private record Tok(char type, String text) {}

    private static final List<String> OPERATORS = List.of("//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/",
            "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "=", ";");
    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Tok> toks = new ArrayList<>();
    private final int line;
    private int i;

    ExprParser(String src, int line) {
        this.line = line;
        tokenize(src);
    }

    private void tokenize(String src) {
        int p = 0;
        while (p < src.length()) {
            char c = src.charAt(p);
            if (Character.isWhitespace(c)) {
                p++;
            } else if (Character.isLetter(c) || c == '_') {
                int s = p;
                while (p < src.length() && (Character.isLetterOrDigit(src.charAt(p)) || src.charAt(p) == '_')) {
                    p++;
                }
                toks.add(new Tok('n', src.substring(s, p)));
            } else if (Character.isDigit(c)) {
                int s = p;
                while (p < src.length() && (Character.isDigit(src.charAt(p)) || src.charAt(p) == '_')) {
                    p++;
                }
                boolean isFloat = false;
                if (p + 1 < src.length() && src.charAt(p) == '.' && Character.isDigit(src.charAt(p + 1))) {
                    isFloat = true;
                    p++;
                    while (p < src.length() && (Character.isDigit(src.charAt(p)) || src.charAt(p) == '_')) {
                        p++;
                    }
                }
                if (p < src.length() && (src.charAt(p) == 'e' || src.charAt(p) == 'E')) {
                    int q = p + 1;
                    if (q < src.length() && (src.charAt(q) == '+' || src.charAt(q) == '-')) {
                        q++;
                    }
                    if (q < src.length() && Character.isDigit(src.charAt(q))) {
                        isFloat = true;
                        p = q;
                        while (p < src.length() && Character.isDigit(src.charAt(p))) {
                            p++;
                        }
                    }
                }
                toks.add(new Tok(isFloat ? 'f' : 'i', src.substring(s, p).replace("_", "")));
            } else if (c == '\'' || c == '"') {
                int s = ++p;
                while (p < src.length() && src.charAt(p) != c) {
                    p += src.charAt(p) == '\\' ? 2 : 1;
                }
                if (p >= src.length()) {
                    throw new TemplateException.Unsupported("an unterminated string literal", line);
                }
                toks.add(new Tok('s', unescape(src.substring(s, p))));
                p++;
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, p)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw new TemplateException.Unsupported("unexpected character '" + c + "' in an expression", line);
                }
                toks.add(new Tok('o', op));
                p += op.length();
            }
        }
        toks.add(new Tok('e', ""));
    }

    /** Jinja2 decodes string literals with Python's unicode-escape codec. */
    private String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < s.length(); k++) {
            char d = s.charAt(k);
            if (d != '\\' || k + 1 >= s.length()) {
                sb.append(d);
                continue;
            }
            char x = s.charAt(++k);
            switch (x) {
                case '\n' -> { } // a backslash-newline continues the line
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'a' -> sb.append('\u0007');
                case '\\', '\'', '"' -> sb.append(x);
                case 'x', 'u', 'U' -> {
                    int n = x == 'x' ? 2 : x == 'u' ? 4 : 8;
                    if (k + n >= s.length()) {
                        throw new TemplateException.Unsupported("a truncated \\" + x + " escape in a string literal", line);
                    }
                    int cp;
                    try {
                        cp = Integer.parseInt(s.substring(k + 1, k + 1 + n), 16);
                    } catch (NumberFormatException e) {
                        cp = -1;
                    }
                    if (cp < 0 || cp > Character.MAX_CODE_POINT || s.charAt(k + 1) == '+' || s.charAt(k + 1) == '-') {
                        throw new TemplateException.Unsupported("a malformed \\" + x + " escape in a string literal", line);
                    }
                    sb.appendCodePoint(cp);
                    k += n;
                }
                default -> {
                    if (x >= '0' && x <= '7') {
                        int e = k;
                        while (e < s.length() && e < k + 3 && s.charAt(e) >= '0' && s.charAt(e) <= '7') {
                            e++;
                        }
                        sb.append((char) Integer.parseInt(s.substring(k, e), 8));
                        k = e - 1;
                    } else {
                        sb.append('\\').append(x);
                    }
                }
            }
        }
        return sb.toString();
    }

    private long integer(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new TemplateException.Unsupported("the integer literal " + digits + ", beyond 64 bits", line);
        }
    }

    // ---- token access ----

    private Tok peek() {
        return toks.get(i);
    }

    private Tok peekAt(int ahead) {
        return toks.get(Math.min(i + ahead, toks.size() - 1));
    }

    String peekName() {
        return peek().type() == 'n' ? peek().text() : "";
    }

    boolean atEnd() {
        return peek().type() == 'e';
    }

    boolean accept(String op) {
        if (peek().type() == 'o' && peek().text().equals(op)) {
            i++;
            return true;
        }
        return false;
    }

    private boolean isOp(String op) {
        return peek().type() == 'o' && peek().text().equals(op);
    }

    boolean acceptName(String name) {
        if (peek().type() == 'n' && peek().text().equals(name)) {
            i++;
            return true;
        }
        return false;
    }

    void expect(String op) {
        if (!accept(op)) {
            throw unexpected("'" + op + "'");
        }
    }

    void expectName(String name) {
        if (!acceptName(name)) {
            throw unexpected("'" + name + "'");
        }
    }

    String name() {
        if (peek().type() != 'n') {
            throw unexpected("a name");
        }
        return toks.get(i++).text();
    }

    void end() {
        if (!atEnd()) {
            throw unexpected("the end of the tag");
        }
    }

    TemplateException.Unsupported unexpected(String wanted) {
        Tok t = peek();
        return new TemplateException.Unsupported("'" + (t.type() == 'e' ? "end of tag" : t.text()) + "' where "
                + wanted + " was expected", line);
    }

    // ---- expressions ----

    /** A full expression, or a tuple of them when commas separate several (as in {@code {% set a, b = 1, 2 %}}). */
    Expr tuple() {
        Expr first = expression();
        if (!isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (accept(",")) {
            if (atEnd() || isOp(")") || isOp("]")) {
                break;
            }
            items.add(expression());
        }
        return new ListExpr(items, true);
    }

    Expr expression() {
        Expr e = orExpression();
        while (acceptName("if")) {
            Expr cond = orExpression();
            Expr otherwise = acceptName("else") ? expression() : null;
            e = new Conditional(e, cond, otherwise);
        }
        return e;
    }

    Expr orExpression() {
        Expr e = and();
        while (acceptName("or")) {
            e = new Binary("or", e, and());
        }
        return e;
    }

    private Expr and() {
        Expr e = not();
        while (acceptName("and")) {
            e = new Binary("and", e, not());
        }
        return e;
    }

    private Expr not() {
        if (acceptName("not")) {
            return new Unary("not", not());
        }
        return compare();
    }

    private Expr compare() {
        Expr e = sum();
        while (true) {
            Tok t = peek();
            if (t.type() == 'o' && COMPARISONS.contains(t.text())) {
                i++;
                e = new Binary(t.text(), e, sum());
            } else if (acceptName("in")) {
                e = new Binary("in", e, sum());
            } else if (t.type() == 'n' && t.text().equals("not") && peekAt(1).type() == 'n' && peekAt(1).text().equals("in")) {
                i += 2;
                e = new Unary("not", new Binary("in", e, sum()));
            } else {
                return e;
            }
        }
    }

    private Expr sum() {
        Expr e = concat();
        while (true) {
            if (accept("+")) {
                e = new Binary("+", e, concat());
            } else if (accept("-")) {
                e = new Binary("-", e, concat());
            } else {
                return e;
            }
        }
    }

    private Expr concat() {
        Expr e = product();
        while (accept("~")) {
            e = new Binary("~", e, product());
        }
        return e;
    }

    private Expr product() {
        Expr e = power();
        while (true) {
            Tok t = peek();
            if (t.type() == 'o' && (t.text().equals("*") || t.text().equals("/") || t.text().equals("//") || t.text().equals("%"))) {
                i++;
                e = new Binary(t.text(), e, power());
            } else {
                return e;
            }
        }
    }

    private Expr power() {
        Expr e = unary(true);
        while (accept("**")) {
            e = new Binary("**", e, unary(true));
        }
        return e;
    }

    private Expr unary(boolean withFilter) {
        Expr e;
        if (accept("-")) {
            e = new Unary("-", unary(false));
        } else if (accept("+")) {
            e = new Unary("+", unary(false));
        } else {
            e = primary();
        }
        e = postfix(e);
        return withFilter ? filtersAndTests(e) : e;
    }

    private Expr filtersAndTests(Expr e) {
        while (true) {
            if (accept("|")) {
                e = postfix(new Filter(e, filterCall()));
            } else if (acceptName("is")) {
                e = test(e);
            } else if (accept("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    /** A filter name and its arguments, after the {@code |}. */
    FilterCall filterCall() {
        String f = name();
        while (accept(".")) {
            f += "." + name();
        }
        if (!Filters.exists(f)) {
            throw new TemplateException.Unsupported("the filter '" + f + "' (Jinja2 has no such filter either: "
                    + "\"No filter named '" + f + "'\")", line);
        }
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        if (accept("(")) {
            arguments(args, kwargs, null);
        }
        return new FilterCall(f, args, kwargs);
    }

    private Expr test(Expr target) {
        boolean negated = acceptName("not");
        String name = name();
        while (accept(".")) {
            name += "." + name();
        }
        if (!Tests.exists(name)) {
            throw new TemplateException.Unsupported("the test '" + name + "' (Jinja2 has no such test either: "
                    + "\"No test named '" + name + "'\")", line);
        }
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        if (accept("(")) {
            arguments(args, kwargs, null);
        } else {
            Tok t = peek();
            boolean startsArg = switch (t.type()) {
                case 'n' -> !Set.of("else", "or", "and", "if", "is", "in", "not").contains(t.text());
                case 's', 'i', 'f' -> true;
                case 'o' -> t.text().equals("(") || t.text().equals("[") || t.text().equals("{");
                default -> false;
            };
            if (startsArg) {
                args.add(postfix(primary()));
            }
        }
        return new Test(target, name, negated, args, kwargs);
    }

    private Expr postfix(Expr e) {
        while (true) {
            if (accept(".")) {
                Tok t = toks.get(i++);
                if (t.type() == 'i') {
                    e = new Index(e, new Literal(integer(t.text())));
                } else if (t.type() == 'n') {
                    e = new Attr(e, t.text());
                } else {
                    i--;
                    throw unexpected("an attribute name");
                }
            } else if (accept("[")) {
                e = subscript(e);
            } else if (accept("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr target) {
        Expr start = isOp(":") ? null : expression();
        if (!accept(":")) {
            if (isOp(",")) {
                throw new TemplateException.Unsupported("a subscript with a tuple", line);
            }
            expect("]");
            return new Index(target, start);
        }
        Expr stop = isOp("]") || isOp(":") ? null : expression();
        Expr step = null;
        if (accept(":") && !isOp("]")) {
            step = expression();
        }
        expect("]");
        return new Slice(target, start, stop, step);
    }

    private Call call(Expr function) {
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        Expr[] stars = new Expr[2];
        arguments(args, kwargs, stars);
        return new Call(function, args, kwargs, stars[0], stars[1]);
    }

    /** Arguments after an opening parenthesis, through the closing one. */
    private void arguments(List<Expr> args, Map<String, Expr> kwargs, Expr[] stars) {
        while (!accept(")")) {
            if (stars != null && accept("**")) {
                stars[1] = expression();
            } else if (stars != null && accept("*")) {
                stars[0] = expression();
            } else if (peek().type() == 'n' && peekAt(1).type() == 'o' && peekAt(1).text().equals("=")) {
                String k = name();
                expect("=");
                kwargs.put(k, expression());
            } else {
                if (!kwargs.isEmpty()) {
                    throw new TemplateException.Unsupported("a positional argument after a keyword argument", line);
                }
                args.add(expression());
            }
            if (!accept(",")) {
                expect(")");
                break;
            }
        }
    }

    private Expr primary() {
        Tok t = toks.get(i++);
        switch (t.type()) {
            case 's' -> {
                StringBuilder s = new StringBuilder(t.text());
                while (peek().type() == 's') { // adjacent literals concatenate
                    s.append(toks.get(i++).text());
                }
                return new Literal(s.toString());
            }
            case 'i' -> {
                return new Literal(integer(t.text()));
            }
            case 'f' -> {
                return new Literal(Double.parseDouble(t.text()));
            }
            case 'n' -> {
                return switch (t.text()) {
                    case "true", "True" -> new Literal(Boolean.TRUE);
                    case "false", "False" -> new Literal(Boolean.FALSE);
                    case "none", "None" -> new Literal(null);
                    default -> new Var(t.text());
                };
            }
            case 'o' -> {
                switch (t.text()) {
                    case "(" -> {
                        if (accept(")")) {
                            return new ListExpr(List.of(), true);
                        }
                        Expr e = expression();
                        if (accept(",")) {
                            List<Expr> items = new ArrayList<>(List.of(e));
                            while (!accept(")")) {
                                items.add(expression());
                                if (!accept(",")) {
                                    expect(")");
                                    break;
                                }
                            }
                            return new ListExpr(items, true);
                        }
                        expect(")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!accept("]")) {
                            items.add(expression());
                            if (!accept(",")) {
                                expect("]");
                                break;
                            }
                        }
                        return new ListExpr(items, false);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!accept("}")) {
                            keys.add(expression());
                            expect(":");
                            values.add(expression());
                            if (!accept(",")) {
                                expect("}");
                                break;
                            }
                        }
                        return new DictExpr(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        i--;
        throw unexpected("an expression");
    }
}
