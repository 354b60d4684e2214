package dev.floe.runtime.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.floe.runtime.tokenizer.jinja.Values.fail;
import static dev.floe.runtime.tokenizer.jinja.Values.str;

/** Python's {@code str} methods as templates call them ({@code content.strip()}, {@code s.split('</think>')}, ...). */
final class Strings {

    private Strings() {}

    /** Python's {@code str.isspace()} for one character (Java's isWhitespace misses no-break spaces). */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085' || (c >= 0x1c && c <= 0x1f);
    }

    static boolean isAllSpace(String s, int from) {
        for (int k = from; k < s.length(); k++) {
            if (!isSpace(s.charAt(k))) {
                return false;
            }
        }
        return from < s.length();
    }

    static String rstrip(String s) {
        return strip(s, null, false, true);
    }

    /** {@code strip}, {@code lstrip} and {@code rstrip}: whitespace, or the given characters. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && (chars == null ? isSpace(s.charAt(from)) : chars.indexOf(s.charAt(from)) >= 0)) {
            from++;
        }
        while (right && to > from && (chars == null ? isSpace(s.charAt(to - 1)) : chars.indexOf(s.charAt(to - 1)) >= 0)) {
            to--;
        }
        return s.substring(from, to);
    }

    /** Python's {@code str.split(sep, maxsplit)}; without a separator, runs of whitespace split and edges are dropped. */
    static List<Object> split(String s, String sep, long maxSplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int k = 0;
            while (true) {
                while (k < s.length() && isSpace(s.charAt(k))) {
                    k++;
                }
                if (k == s.length()) {
                    return out;
                }
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(rstrip(s.substring(k)));
                    return out;
                }
                int e = k;
                while (e < s.length() && !isSpace(s.charAt(e))) {
                    e++;
                }
                out.add(s.substring(k, e));
                k = e;
            }
        }
        if (sep.isEmpty()) {
            throw fail("empty separator");
        }
        int k = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, k);
            if (at < 0) {
                break;
            }
            out.add(s.substring(k, at));
            k = at + sep.length();
        }
        out.add(s.substring(k));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long maxSplit) {
        if (sep == null || maxSplit < 0) {
            return split(s, sep, maxSplit);
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxSplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0 || end - sep.length() < 0) {
                break;
            }
            out.addFirst(s.substring(at + sep.length(), end));
            end = at;
        }
        out.addFirst(s.substring(0, end));
        return out;
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            sb.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            previousCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT)).toString();
    }

    static String replace(String s, String old, String with, long count) {
        if (count < 0) {
            return s.replace(old, with);
        }
        StringBuilder sb = new StringBuilder();
        int k = 0;
        for (long n = 0; n < count; n++) {
            int at = old.isEmpty() ? (k <= s.length() ? k : -1) : s.indexOf(old, k);
            if (at < 0) {
                break;
            }
            sb.append(s, k, at).append(with);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    sb.append(s.charAt(at));
                }
                k = at + 1;
            } else {
                k = at + old.length();
            }
        }
        if (k <= s.length()) {
            sb.append(s.substring(k));
        }
        return sb.toString();
    }

    /** printf-style {@code 'format' % values} for the conversions templates use: s, r, d, i, f, x, %. */
    static String percent(String format, Object values) {
        List<Object> args = Values.sequence(values) != null && values instanceof Values.Tuple t ? t.items() : List.of(values);
        Map<?, ?> named = values instanceof Map<?, ?> m ? m : null;
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            int j = i + 1;
            Object arg = null;
            boolean haveArg = false;
            if (j < format.length() && format.charAt(j) == '(' && named != null) {
                int close = format.indexOf(')', j);
                arg = named.get(format.substring(j + 1, close));
                haveArg = true;
                j = close + 1;
            }
            int specStart = j;
            while (j < format.length() && "-+ #0123456789.".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            if (j >= format.length()) {
                throw fail("incomplete format");
            }
            String flags = format.substring(specStart, j);
            char conv = format.charAt(j);
            i = j;
            if (conv == '%') {
                sb.append('%');
                continue;
            }
            if (!haveArg) {
                if (next >= args.size()) {
                    throw fail("not enough arguments for format string");
                }
                arg = args.get(next++);
            }
            String javaFlags = flags.replace("#", "");
            sb.append(switch (conv) {
                case 's' -> String.format(Locale.ROOT, "%" + javaFlags + "s", str(arg));
                case 'r' -> String.format(Locale.ROOT, "%" + javaFlags + "s", Values.repr(arg));
                case 'd', 'i' -> String.format(Locale.ROOT, "%" + javaFlags + "d", (long) Values.toDouble(arg, "%d"));
                case 'f', 'F' -> String.format(Locale.ROOT, "%" + (flags.contains(".") ? javaFlags : javaFlags + ".6") + "f",
                        Values.toDouble(arg, "%f"));
                case 'x' -> String.format(Locale.ROOT, "%" + javaFlags + "x", Values.toLong(arg, "%x"));
                default -> throw new TemplateException.Unsupported("the printf conversion %" + conv, 0);
            });
        }
        if (named == null && next < args.size()) {
            throw fail("not all arguments converted during string formatting");
        }
        return sb.toString();
    }

    /** {@code str.format} with {@code {}}, {@code {0}} and {@code {name}} fields and no format specs. */
    static String format(String pattern, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '{' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
            } else if (c == '}' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '}') {
                sb.append('}');
                i++;
            } else if (c == '{') {
                int close = pattern.indexOf('}', i);
                if (close < 0) {
                    throw fail("Single '{' encountered in format string");
                }
                String field = pattern.substring(i + 1, close);
                if (field.contains(":") || field.contains("!")) {
                    throw new TemplateException.Unsupported("str.format field '{" + field + "}' with a conversion or spec", 0);
                }
                Object v;
                if (field.isEmpty()) {
                    v = auto < args.size() ? args.get(auto++) : null;
                    if (auto > args.size()) {
                        throw fail("Replacement index " + (auto - 1) + " out of range for positional args tuple");
                    }
                } else if (field.chars().allMatch(Character::isDigit)) {
                    int k = Integer.parseInt(field);
                    if (k >= args.size()) {
                        throw fail("Replacement index " + k + " out of range for positional args tuple");
                    }
                    v = args.get(k);
                } else {
                    if (!kwargs.containsKey(field)) {
                        throw fail("'" + field + "'");
                    }
                    v = kwargs.get(field);
                }
                sb.append(str(v));
                i = close;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
