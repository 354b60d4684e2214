package dev.floe.runtime.tokenizer;

import dev.floe.runtime.tokenizer.ChatTemplate.UnsupportedTemplateException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the Jinja subset that chat templates use into a tree of {@link Node}s. Whitespace handling follows the
 * environment transformers renders chat templates with: {@code trim_blocks} and {@code lstrip_blocks} on, plus the
 * explicit {@code -} markers.
 */
final class JinjaParser {

    // ---- tree ----

    sealed interface Node {}

    record Text(String text) implements Node {}

    record Output(Expr expr) implements Node {}

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> otherwise) implements Node {}

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise) implements Node {}

    record Assign(String name, String attribute, Expr value) implements Node {}

    record Break() implements Node {}

    record Continue() implements Node {}

    record Block(List<Node> body) implements Node {}

    sealed interface Expr {}

    record Literal(Object value) implements Expr {}

    record Var(String name) implements Expr {}

    record Attr(Expr target, String name) implements Expr {}

    record Index(Expr target, Expr index) implements Expr {}

    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr function, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Filter(Expr target, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Test(Expr target, String name, boolean negated, List<Expr> args) implements Expr {}

    record Binary(String op, Expr left, Expr right) implements Expr {}

    record Unary(String op, Expr operand) implements Expr {}

    record Conditional(Expr then, Expr condition, Expr otherwise) implements Expr {}

    record ListExpr(List<Expr> items) implements Expr {}

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {}

    static final Set<String> FILTERS = Set.of("trim", "length", "count", "upper", "lower", "default", "d", "join",
            "first", "last", "tojson", "string", "int", "float", "list", "replace", "capitalize", "title", "safe",
            "items", "reverse", "abs", "round", "unique", "indent", "map", "select", "reject", "selectattr", "rejectattr");
    static final Set<String> TESTS = Set.of("defined", "undefined", "none", "string", "number", "integer", "float",
            "mapping", "iterable", "sequence", "boolean", "true", "false", "even", "odd", "divisibleby", "eq", "ne",
            "equalto", "in", "lt", "gt", "le", "ge", "lessthan", "greaterthan");

    // ---- template lexing ----

    private enum Kind { TEXT, OUTPUT, STATEMENT, COMMENT }

    private record Part(Kind kind, String text, boolean trimBefore, boolean keepBefore, boolean trimAfter, int line) {}

    private final List<Part> parts;
    private int at;

    private JinjaParser(String source) {
        this.parts = whitespaceControl(lex(source));
    }

    static List<Node> parse(String source) {
        // Jinja drops one trailing newline of a template (keep_trailing_newline is off).
        String src = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        JinjaParser p = new JinjaParser(src);
        List<Node> body = p.nodes(Set.of());
        if (p.at < p.parts.size()) {
            Part stray = p.parts.get(p.at);
            throw new UnsupportedTemplateException("unexpected {% " + stray.text().strip() + " %} at line " + stray.line());
        }
        return body;
    }

    private static List<Part> lex(String s) {
        List<Part> out = new ArrayList<>();
        int pos = 0;
        int line = 1;
        while (pos < s.length()) {
            int open = nextOpen(s, pos);
            if (open < 0) {
                out.add(new Part(Kind.TEXT, s.substring(pos), false, false, false, line));
                break;
            }
            if (open > pos) {
                out.add(new Part(Kind.TEXT, s.substring(pos, open), false, false, false, line));
                line += count(s, pos, open);
            }
            char c = s.charAt(open + 1);
            Kind kind = c == '{' ? Kind.OUTPUT : c == '%' ? Kind.STATEMENT : Kind.COMMENT;
            String close = c == '{' ? "}}" : c == '%' ? "%}" : "#}";
            int start = open + 2;
            boolean trimBefore = start < s.length() && s.charAt(start) == '-';
            boolean keepBefore = start < s.length() && s.charAt(start) == '+';
            if (trimBefore || keepBefore) {
                start++;
            }
            int end = kind == Kind.COMMENT ? s.indexOf(close, start) : closeOutsideStrings(s, start, close);
            if (end < 0) {
                throw new UnsupportedTemplateException("an unclosed tag opened at line " + line);
            }
            boolean trimAfter = end > start && s.charAt(end - 1) == '-';
            String body = s.substring(start, trimAfter ? end - 1 : end);
            out.add(new Part(kind, body, trimBefore, keepBefore, trimAfter, line));
            line += count(s, open, end);
            pos = end + 2;
        }
        return out;
    }

    private static int nextOpen(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private static int closeOutsideStrings(String s, int from, String close) {
        char quote = 0;
        for (int i = from; i + 1 < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (s.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    /** Applies {@code -} markers, trim_blocks and lstrip_blocks to the text parts, and drops comments. */
    private static List<Part> whitespaceControl(List<Part> in) {
        List<Part> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            Part p = in.get(i);
            if (p.kind() != Kind.TEXT) {
                if (p.kind() != Kind.COMMENT) {
                    out.add(p);
                }
                continue;
            }
            String text = p.text();
            Part prev = i > 0 ? in.get(i - 1) : null;
            Part next = i + 1 < in.size() ? in.get(i + 1) : null;
            if (prev != null && prev.trimAfter()) {
                text = text.stripLeading();
            } else if (prev != null && prev.kind() != Kind.OUTPUT) {
                // trim_blocks: the first newline after a block or comment tag goes
                if (text.startsWith("\r\n")) {
                    text = text.substring(2);
                } else if (text.startsWith("\n")) {
                    text = text.substring(1);
                }
            }
            if (next != null && next.trimBefore()) {
                text = text.stripTrailing();
            } else if (next != null && next.kind() != Kind.OUTPUT && !next.keepBefore()) {
                // lstrip_blocks: spaces and tabs between the start of a line and a block tag go
                String orig = p.text();
                int k = orig.length();
                while (k > 0 && (orig.charAt(k - 1) == ' ' || orig.charAt(k - 1) == '\t')) {
                    k--;
                }
                boolean lineStart = k > 0 ? orig.charAt(k - 1) == '\n' : prev == null;
                if (lineStart) {
                    text = text.substring(0, Math.max(0, text.length() - (orig.length() - k)));
                }
            }
            if (!text.isEmpty()) {
                out.add(new Part(Kind.TEXT, text, false, false, false, p.line()));
            }
        }
        return out;
    }

    // ---- statements ----

    /** Parses nodes until a statement whose first word is in {@code stops} (which is left unconsumed). */
    private List<Node> nodes(Set<String> stops) {
        List<Node> out = new ArrayList<>();
        while (at < parts.size()) {
            Part p = parts.get(at);
            switch (p.kind()) {
                case TEXT -> {
                    out.add(new Text(p.text()));
                    at++;
                }
                case OUTPUT -> {
                    ExprParser e = new ExprParser(p.text(), p.line());
                    out.add(new Output(e.expression()));
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
                case COMMENT -> at++;
            }
        }
        if (!stops.isEmpty()) {
            throw new UnsupportedTemplateException("a block without its {% " + String.join(" / ", stops) + " %}");
        }
        return out;
    }

    private Node statement(String word, ExprParser e, Part p) {
        e.name();
        switch (word) {
            case "if" -> {
                List<Expr> conds = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                conds.add(e.expression());
                e.end();
                List<Node> otherwise = List.of();
                while (true) {
                    bodies.add(nodes(Set.of("elif", "else", "endif")));
                    ExprParser tag = closing(p, "endif");
                    String w = tag.name();
                    if (w.equals("elif")) {
                        conds.add(tag.expression());
                        tag.end();
                    } else if (w.equals("else")) {
                        tag.end();
                        otherwise = nodes(Set.of("endif"));
                        closing(p, "endif").name();
                        break;
                    } else {
                        break;
                    }
                }
                return new If(conds, bodies, otherwise);
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                targets.add(e.name());
                while (e.accept(",")) {
                    targets.add(e.name());
                }
                e.expectName("in");
                Expr iterable = e.orExpression();
                Expr filter = null;
                if (e.acceptName("if")) {
                    filter = e.orExpression();
                }
                if (e.acceptName("recursive")) {
                    throw new UnsupportedTemplateException("recursive for-loops (line " + p.line() + ")");
                }
                e.end();
                List<Node> body = nodes(Set.of("else", "endfor"));
                List<Node> otherwise = List.of();
                ExprParser tag = closing(p, "endfor");
                if (tag.name().equals("else")) {
                    otherwise = nodes(Set.of("endfor"));
                    closing(p, "endfor").name();
                }
                return new For(targets, iterable, filter, body, otherwise);
            }
            case "set" -> {
                String name = e.name();
                String attribute = e.accept(".") ? e.name() : null;
                if (!e.accept("=")) {
                    throw new UnsupportedTemplateException("block assignments {% set " + name + " %}...{% endset %}"
                            + " (line " + p.line() + ")");
                }
                Expr value = e.expression();
                e.end();
                return new Assign(name, attribute, value);
            }
            case "break" -> {
                e.end();
                return new Break();
            }
            case "continue" -> {
                e.end();
                return new Continue();
            }
            case "generation" -> {
                e.end();
                List<Node> body = nodes(Set.of("endgeneration"));
                closing(p, "endgeneration").name();
                return new Block(body);
            }
            default -> throw new UnsupportedTemplateException("the {% " + word + " %} statement (line " + p.line() + ")");
        }
    }

    /** The parser of the statement that ends a block opened by {@code opener}. */
    private ExprParser closing(Part opener, String end) {
        if (at >= parts.size()) {
            throw new UnsupportedTemplateException("{% " + opener.text().strip() + " %} at line " + opener.line()
                    + " without {% " + end + " %}");
        }
        Part p = parts.get(at++);
        return new ExprParser(p.text(), p.line());
    }

    // ---- expressions ----

    /** A recursive-descent parser of one tag's expression, with Jinja's operator precedence. */
    static final class ExprParser {
        private record Tok(char type, String text) {} // type: n(ame) s(tring) i(nt) f(loat) o(perator) e(nd)

        private static final List<String> OPERATORS = List.of("//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/",
                "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "=");

        private final List<Tok> toks = new ArrayList<>();
        private final int line;
        private int i;

        ExprParser(String src, int line) {
            this.line = line;
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
                    boolean isFloat = p + 1 < src.length() && src.charAt(p) == '.' && Character.isDigit(src.charAt(p + 1));
                    if (isFloat) {
                        p++;
                        while (p < src.length() && Character.isDigit(src.charAt(p))) {
                            p++;
                        }
                    }
                    toks.add(new Tok(isFloat ? 'f' : 'i', src.substring(s, p).replace("_", "")));
                } else if (c == '\'' || c == '"') {
                    StringBuilder sb = new StringBuilder();
                    p++;
                    while (p < src.length() && src.charAt(p) != c) {
                        char d = src.charAt(p++);
                        if (d == '\\' && p < src.length()) {
                            char x = src.charAt(p++);
                            switch (x) {
                                case 'n' -> sb.append('\n');
                                case 't' -> sb.append('\t');
                                case 'r' -> sb.append('\r');
                                case '\\', '\'', '"' -> sb.append(x);
                                default -> sb.append('\\').append(x);
                            }
                        } else {
                            sb.append(d);
                        }
                    }
                    if (p >= src.length()) {
                        throw new UnsupportedTemplateException("an unterminated string literal (line " + line + ")");
                    }
                    p++;
                    toks.add(new Tok('s', sb.toString()));
                } else {
                    String op = null;
                    for (String o : OPERATORS) {
                        if (src.startsWith(o, p)) {
                            op = o;
                            break;
                        }
                    }
                    if (op == null) {
                        throw new UnsupportedTemplateException("the character '" + c + "' in an expression (line " + line + ")");
                    }
                    toks.add(new Tok('o', op));
                    p += op.length();
                }
            }
            toks.add(new Tok('e', ""));
        }

        private Tok peek() {
            return toks.get(i);
        }

        String peekName() {
            return peek().type() == 'n' ? peek().text() : "";
        }

        boolean accept(String op) {
            if (peek().type() == 'o' && peek().text().equals(op)) {
                i++;
                return true;
            }
            return false;
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
            if (peek().type() != 'e') {
                throw unexpected("the end of the tag");
            }
        }

        private UnsupportedTemplateException unexpected(String wanted) {
            Tok t = peek();
            return new UnsupportedTemplateException("'" + (t.type() == 'e' ? "end of tag" : t.text()) + "' where "
                    + wanted + " was expected (line " + line + ")");
        }

        Expr expression() {
            Expr e = orExpression();
            if (acceptName("if")) {
                Expr cond = orExpression();
                Expr otherwise = acceptName("else") ? expression() : new Literal(ChatTemplate.UNDEFINED);
                return new Conditional(e, cond, otherwise);
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
                if (t.type() == 'o' && List.of("==", "!=", "<", ">", "<=", ">=").contains(t.text())) {
                    i++;
                    e = new Binary(t.text(), e, sum());
                } else if (acceptName("in")) {
                    e = new Binary("in", e, sum());
                } else if (t.type() == 'n' && t.text().equals("not") && toks.get(i + 1).text().equals("in")) {
                    i += 2;
                    e = new Unary("not", new Binary("in", e, sum()));
                } else if (acceptName("is")) {
                    boolean negated = acceptName("not");
                    String test = name();
                    if (!TESTS.contains(test)) {
                        throw new UnsupportedTemplateException("the test 'is " + test + "' (line " + line + ")");
                    }
                    List<Expr> args = new ArrayList<>();
                    if (accept("(")) {
                        args.addAll(arguments(new LinkedHashMap<>()));
                    } else if (peek().type() == 'i' || peek().type() == 's' || peek().type() == 'f') {
                        args.add(primary());
                    }
                    e = new Test(e, test, negated, args);
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
            Expr e = unary();
            while (true) {
                Tok t = peek();
                if (t.type() == 'o' && List.of("*", "/", "//", "%").contains(t.text())) {
                    i++;
                    e = new Binary(t.text(), e, unary());
                } else {
                    return e;
                }
            }
        }

        private Expr unary() {
            if (accept("-")) {
                return filters(new Unary("-", unary()));
            }
            if (accept("+")) {
                return unary();
            }
            return filters(postfix(primary()));
        }

        private Expr filters(Expr e) {
            while (accept("|")) {
                String f = name();
                if (!FILTERS.contains(f)) {
                    throw new UnsupportedTemplateException("the filter '|" + f + "' (line " + line + ")");
                }
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                List<Expr> args = accept("(") ? arguments(kwargs) : List.of();
                e = postfix(new Filter(e, f, args, kwargs));
            }
            return e;
        }

        private Expr postfix(Expr e) {
            while (true) {
                if (accept(".")) {
                    e = new Attr(e, name());
                } else if (accept("[")) {
                    Expr start = null;
                    if (!(peek().type() == 'o' && peek().text().equals(":"))) {
                        start = expression();
                    }
                    if (accept(":")) {
                        Expr stop = peek().text().equals("]") || peek().text().equals(":") ? null : expression();
                        Expr step = accept(":") && !peek().text().equals("]") ? expression() : null;
                        expect("]");
                        e = new Slice(e, start, stop, step);
                    } else {
                        expect("]");
                        e = new Index(e, start);
                    }
                } else if (accept("(")) {
                    Map<String, Expr> kwargs = new LinkedHashMap<>();
                    e = new Call(e, arguments(kwargs), kwargs);
                } else {
                    return e;
                }
            }
        }

        /** Arguments after an opening parenthesis, through the closing one. */
        private List<Expr> arguments(Map<String, Expr> kwargs) {
            List<Expr> args = new ArrayList<>();
            while (!accept(")")) {
                if (peek().type() == 'n' && toks.get(i + 1).type() == 'o' && toks.get(i + 1).text().equals("=")) {
                    String k = name();
                    expect("=");
                    kwargs.put(k, expression());
                } else {
                    args.add(expression());
                }
                if (!accept(",")) {
                    expect(")");
                    break;
                }
            }
            return args;
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
                    return new Literal(Long.parseLong(t.text()));
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
                    if (t.text().equals("(")) {
                        Expr e = expression();
                        if (accept(",")) {
                            throw new UnsupportedTemplateException("tuples (line " + line + ")");
                        }
                        expect(")");
                        return e;
                    }
                    if (t.text().equals("[")) {
                        List<Expr> items = new ArrayList<>();
                        while (!accept("]")) {
                            items.add(expression());
                            if (!accept(",")) {
                                expect("]");
                                break;
                            }
                        }
                        return new ListExpr(items);
                    }
                    if (t.text().equals("{")) {
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
                }
                default -> { }
            }
            i--;
            throw unexpected("an expression");
        }
    }
}
