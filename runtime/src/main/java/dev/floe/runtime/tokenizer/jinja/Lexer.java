package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into text, {@code {{ }}} and {@code {% %}} parts and applies whitespace control the way Jinja2's
 * lexer does in the environment transformers uses: {@code trim_blocks} (the newline after a block or comment tag
 * goes), {@code lstrip_blocks} (spaces and tabs from the start of a line to a block or comment tag go, unless the tag
 * opens with {@code +}), the {@code -} markers, comments dropped, {@code {% raw %}} kept verbatim, newlines normalized
 * and one trailing newline removed ({@code keep_trailing_newline} off).
 */
final class Lexer {

    enum Kind { TEXT, OUTPUT, STATEMENT }

    record Part(Kind kind, String text, int line) {}

    private enum Tag { TEXT, OUTPUT, STATEMENT, COMMENT }

    /**
     * A raw piece: text, or a tag with its markers: {@code -} or {@code +} after the opener, {@code -} (strip what
     * follows) or {@code +} (keep the newline trim_blocks would take) before the closer.
     */
    private record Raw(Tag tag, String body, char openSign, boolean trimAfter, int line, boolean keepNewline) {
        Raw(Tag tag, String body, char openSign, boolean trimAfter, int line) {
            this(tag, body, openSign, trimAfter, line, false);
        }
    }

    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(-?)%}");

    private Lexer() {}

    static List<Part> lex(String template) {
        String s = template.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        return whitespaceControl(split(s));
    }

    private static List<Raw> split(String s) {
        List<Raw> out = new ArrayList<>();
        int pos = 0;
        int line = 1;
        while (pos < s.length()) {
            int open = nextOpen(s, pos);
            if (open < 0) {
                out.add(new Raw(Tag.TEXT, s.substring(pos), ' ', false, line));
                break;
            }
            if (open > pos) {
                out.add(new Raw(Tag.TEXT, s.substring(pos, open), ' ', false, line));
                line += newlines(s, pos, open);
            }
            char c = s.charAt(open + 1);
            Tag tag = c == '{' ? Tag.OUTPUT : c == '%' ? Tag.STATEMENT : Tag.COMMENT;
            String close = c == '{' ? "}}" : c == '%' ? "%}" : "#}";
            int start = open + 2;
            char sign = start < s.length() && (s.charAt(start) == '-' || s.charAt(start) == '+') ? s.charAt(start) : ' ';
            if (sign != ' ') {
                start++;
            }
            int end = tag == Tag.COMMENT ? s.indexOf(close, start) : closeOutsideStrings(s, start, close);
            if (end < 0) {
                throw new TemplateException.Unsupported("a tag opened with '" + s.substring(open, open + 2)
                        + "' that is never closed", line);
            }
            boolean trimAfter = end > start && s.charAt(end - 1) == '-';
            boolean keepNewline = tag != Tag.OUTPUT && end > start && s.charAt(end - 1) == '+';
            String body = s.substring(start, trimAfter || keepNewline ? end - 1 : end);
            int next = end + 2;
            if (tag == Tag.STATEMENT && body.strip().equals("raw")) {
                Matcher m = RAW_END.matcher(s);
                if (!m.find(next)) {
                    throw new TemplateException.Unsupported("{% raw %} without {% endraw %}", line);
                }
                out.add(new Raw(Tag.COMMENT, "", sign, trimAfter, line));
                String raw = s.substring(next, m.start());
                out.add(new Raw(Tag.TEXT, raw, ' ', false, line));
                line += newlines(s, open, m.end());
                out.add(new Raw(Tag.COMMENT, "", m.group(1).isEmpty() ? ' ' : m.group(1).charAt(0), !m.group(2).isEmpty(), line));
                pos = m.end();
                continue;
            }
            out.add(new Raw(tag, body, sign, trimAfter, line, keepNewline));
            line += newlines(s, open, next);
            pos = next;
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

    /**
     * Where the tag closes: outside string literals and, as Jinja2's lexer balances brackets, outside any open
     * parenthesis, bracket or brace (so {@code {{ {'a': {'b': 1}} }}} ends at the last {@code }}}).
     */
    private static int closeOutsideStrings(String s, int from, String close) {
        char quote = 0;
        int depth = 0;
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
            } else if (depth == 0 && s.startsWith(close, i)) {
                return i;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    private static int newlines(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    private static List<Part> whitespaceControl(List<Raw> in) {
        List<Part> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            Raw p = in.get(i);
            if (p.tag() != Tag.TEXT) {
                if (p.tag() == Tag.OUTPUT) {
                    out.add(new Part(Kind.OUTPUT, p.body(), p.line()));
                } else if (p.tag() == Tag.STATEMENT) {
                    out.add(new Part(Kind.STATEMENT, p.body(), p.line()));
                }
                continue;
            }
            String text = p.body();
            Raw prev = i > 0 ? in.get(i - 1) : null;
            Raw next = i + 1 < in.size() ? in.get(i + 1) : null;
            boolean startsLine;
            if (prev == null) {
                startsLine = true;
            } else if (prev.trimAfter()) {
                int k = 0;
                while (k < text.length() && Strings.isSpace(text.charAt(k))) {
                    k++;
                }
                // Jinja's "-%}" swallows the whitespace; a line starts after it if that whitespace ended with a newline
                startsLine = k > 0 && text.charAt(k - 1) == '\n';
                text = text.substring(k);
            } else if (prev.tag() != Tag.OUTPUT && !prev.keepNewline() && text.startsWith("\n")) {
                text = text.substring(1); // trim_blocks
                startsLine = true;
            } else {
                startsLine = false;
            }
            if (next != null && next.openSign() == '-') {
                text = Strings.rstrip(text);
            } else if (next != null && next.tag() != Tag.OUTPUT && next.openSign() != '+') {
                int lpos = text.lastIndexOf('\n') + 1;
                if ((lpos > 0 || startsLine) && lpos < text.length() && Strings.isAllSpace(text, lpos)) {
                    text = text.substring(0, lpos); // lstrip_blocks
                }
            }
            if (!text.isEmpty()) {
                out.add(new Part(Kind.TEXT, text, p.line()));
            }
        }
        return out;
    }
}
