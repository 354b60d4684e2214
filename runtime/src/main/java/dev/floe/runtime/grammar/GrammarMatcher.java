package dev.floe.runtime.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Where a text stands in a {@link Grammar}: the set of parses still alive, each a persistent stack of what remains
 * to be read. Immutable: {@link #advance} returns a new matcher (or null when the character cannot come next), so a
 * search over a vocabulary's tokens can branch from one state cheaply.
 */
public final class GrammarMatcher {
    /** Most whitespace characters in one run. */
    public static final int MAX_WHITESPACE = 12;
    /** Most characters of one number. */
    static final int MAX_NUMBER = 24;
    /** Most parses kept alive at once; the grammars here are nearly deterministic, so this is far from reached. */
    private static final int MAX_PARSES = 256;

    /**
     * A persistent stack: the item to read next and the rest. Null is the empty stack (a complete parse). Grammar
     * nodes compare by identity and the hash is computed once: a record's structural hash would walk the grammar
     * below the node, and parse sets are hashed at every character of the trie walk.
     */
    private static final class Frame {
        final Object item;
        final Frame next;
        final int hash;

        Frame(Object item, Frame next) {
            this.item = item;
            this.next = next;
            this.hash = 31 * (item instanceof Grammar ? System.identityHashCode(item) : item.hashCode()) + (next == null ? 0 : next.hash);
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) return true;
            return o instanceof Frame f && hash == f.hash && (item instanceof Grammar ? item == f.item : item.equals(f.item))
                    && Objects.equals(next, f.next);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("[");
            for (Frame f = this; f != null; f = f.next) sb.append(f == this ? "" : ", ").append(f.item);
            return sb.append(']').toString();
        }
    }

    /** A literal, {@code pos} characters of it read. */
    private record Lit(String text, int pos) {
    }

    /** Inside a JSON string after its opening quote. phase 0: plain, 1: after a backslash, 2..5: hex digits left + 1. */
    private record Str(int min, int max, int length, int phase) {
    }

    /** Inside a JSON number; phases as in {@link #stepNumber}. */
    private record Num(boolean integer, int phase, int length) {
    }

    private record Ws(int count) {
    }

    private static final char[] WHITESPACE = {'\t', '\n', '\r', ' '};
    private static final char[] ESCAPES = "\"/\\bfnrtu".chars().sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().toCharArray();
    private static final char[] HEX = "0123456789ABCDEFabcdef".toCharArray();
    private static final char[] NUMBER = "+-.0123456789Ee".toCharArray();
    private static final char[] NONE = new char[0];

    private final List<Frame> parses;
    private final Map<Grammar, String> shortest;
    /** {@link #nextChars}, computed on first use; {@link #UNBOUNDED} when a string may go on with any character. */
    private char[] nextChars;
    private static final char[] UNBOUNDED = new char[0];

    private GrammarMatcher(List<Frame> parses, Map<Grammar, String> shortest) {
        this.parses = parses;
        this.shortest = shortest;
    }

    /** A matcher at the start of {@code grammar}. */
    public static GrammarMatcher start(Grammar grammar) {
        List<Frame> ready = new ArrayList<>();
        close(new Frame(grammar, null), ready);
        return new GrammarMatcher(ready, new IdentityHashMap<>());
    }

    /** Whether the text so far is a whole sentence of the grammar. */
    public boolean complete() {
        for (Frame f : parses) if (f == null) return true;
        return false;
    }

    /** Whether some character may still come next. */
    public boolean canContinue() {
        for (Frame f : parses) if (f != null) return true;
        return false;
    }

    /** The matcher after {@code c}, or null when no parse can read it. */
    public GrammarMatcher advance(char c) {
        List<Frame> next = null;
        for (Frame f : parses) {
            if (f == null) continue;
            Frame stepped = step(f, c);
            if (stepped == NO) continue;
            if (next == null) next = new ArrayList<>(4);
            close(stepped, next);
            if (next.size() > MAX_PARSES) throw new IllegalStateException("the grammar is too ambiguous: over " + MAX_PARSES + " parses");
        }
        return next == null ? null : new GrammarMatcher(next, shortest);
    }

    /**
     * The characters some parse may read next, sorted, or null when a parse is inside a JSON string (where almost
     * any character may come). A trie walk looks up only these among a node's children.
     */
    char[] nextChars() {
        if (nextChars == null) nextChars = computeNextChars();
        return nextChars == UNBOUNDED ? null : nextChars;
    }

    private char[] computeNextChars() {
        char[] out = new char[8];
        int n = 0;
        for (Frame f : parses) {
            if (f == null) continue;
            char[] add = switch (f.item) {
                case Lit l -> new char[]{l.text().charAt(l.pos())};
                case Ws w -> w.count() < MAX_WHITESPACE ? WHITESPACE : NONE;
                case Num num -> num.length() < MAX_NUMBER ? numberChars(num) : NONE;
                case Str s -> s.phase() == 0 ? null : s.phase() == 1 ? ESCAPES : HEX;
                default -> throw new IllegalStateException("not a character reader: " + f.item);
            };
            if (add == null) return UNBOUNDED;
            if (n + add.length > out.length) out = Arrays.copyOf(out, Math.max(2 * out.length, n + add.length));
            System.arraycopy(add, 0, out, n, add.length);
            n += add.length;
        }
        Arrays.sort(out, 0, n);
        int distinct = 0;
        for (int i = 0; i < n; i++) if (distinct == 0 || out[distinct - 1] != out[i]) out[distinct++] = out[i];
        return Arrays.copyOf(out, distinct);
    }

    /** By integer-only (1) or not (0) and phase, the characters a number may read next. */
    private static final char[][][] NUMBER_NEXT = new char[2][9][];

    static {
        for (int integer = 0; integer < 2; integer++) {
            for (int phase = 0; phase < 9; phase++) {
                StringBuilder sb = new StringBuilder();
                for (char c : NUMBER) if (stepNumber(new Num(integer == 1, phase, 0), c) >= 0) sb.append(c);
                NUMBER_NEXT[integer][phase] = sb.toString().toCharArray();
            }
        }
    }

    private static char[] numberChars(Num n) {
        return NUMBER_NEXT[n.integer() ? 1 : 0][n.phase()];
    }

    /**
     * Whether every parse that may go on is inside a JSON string, not after a backslash. There, every character but
     * a quote, a backslash and a control character reads the same way (one more character of the string), so all
     * the tokens made only of such characters and of one length lead to the same matcher.
     */
    boolean inPlainString() {
        boolean any = false;
        for (Frame f : parses) {
            if (f == null) continue;
            if (!(f.item instanceof Str s) || s.phase() != 0) return false;
            any = true;
        }
        return any;
    }

    /** Whether {@code c} reads as one more plain character wherever {@link #inPlainString} holds. */
    static boolean plainInString(char c) {
        return c >= 0x20 && c != '"' && c != '\\';
    }

    /** The matcher after every character of {@code text}, or null when it cannot be read. */
    public GrammarMatcher advance(CharSequence text) {
        GrammarMatcher m = this;
        for (int i = 0; i < text.length() && m != null; i++) m = m.advance(text.charAt(i));
        return m;
    }

    /** A shortest text that completes the sentence ("" when it is complete). */
    public String shortestCompletion() {
        String best = null;
        for (Frame f : parses) {
            StringBuilder sb = new StringBuilder();
            for (Frame x = f; x != null && (best == null || sb.length() < best.length()); x = x.next) sb.append(shortest(x.item));
            if (best == null || sb.length() < best.length()) best = sb.toString();
        }
        return best == null ? "" : best;
    }

    /** Marks a step that fails (null is the empty stack, a valid result). */
    private static final Frame NO = new Frame("no", null);

    private static void add(Frame f, List<Frame> out) {
        if (!out.contains(f)) out.add(f);
    }

    /** Expands grammar nodes on top of the stack until a character reader (or the end) is on top. */
    private static void close(Frame f, List<Frame> out) {
        if (f == null) {
            add(null, out);
            return;
        }
        Object top = f.item;
        Frame rest = f.next;
        switch (top) {
            case Grammar.Sequence s -> {
                Frame g = rest;
                for (int i = s.items().size() - 1; i >= 0; i--) g = new Frame(s.items().get(i), g);
                close(g, out);
            }
            case Grammar.Choice c -> {
                for (Grammar o : c.options()) close(new Frame(o, rest), out);
            }
            case Grammar.Rule r -> close(new Frame(r.body(), rest), out);
            case Grammar.Literal l -> {
                if (l.text().isEmpty()) close(rest, out);
                else add(new Frame(new Lit(l.text(), 0), rest), out);
            }
            case Grammar.JsonString s -> add(new Frame(new Lit("\"", 0), new Frame(new Str(s.minLength(), s.maxLength(), 0, 0), rest)), out);
            case Grammar.JsonNumber n -> add(new Frame(new Num(n.integer(), 0, 0), rest), out);
            case Grammar.Whitespace w -> {
                add(new Frame(new Ws(0), rest), out);
                close(rest, out);
            }
            case Ws w -> {
                add(f, out);
                close(rest, out);
            }
            case Num n -> {
                add(f, out);
                if (numberEnds(n.phase())) close(rest, out);
            }
            default -> add(f, out); // Lit, Str: they only end by reading a character
        }
    }

    /** The stack after reading {@code c} with its top, not yet closed; {@link #NO} when the top cannot read it. */
    private static Frame step(Frame f, char c) {
        Frame rest = f.next;
        return switch (f.item) {
            case Lit l -> l.text().charAt(l.pos()) != c ? NO
                    : l.pos() + 1 == l.text().length() ? rest : new Frame(new Lit(l.text(), l.pos() + 1), rest);
            case Str s -> stepString(s, c, rest);
            case Num n -> {
                int phase = stepNumber(n, c);
                yield phase < 0 || n.length() >= MAX_NUMBER ? NO : new Frame(new Num(n.integer(), phase, n.length() + 1), rest);
            }
            case Ws w -> (c == ' ' || c == '\n' || c == '\t' || c == '\r') && w.count() < MAX_WHITESPACE ? new Frame(new Ws(w.count() + 1), rest) : NO;
            default -> throw new IllegalStateException("not a character reader: " + f.item);
        };
    }

    private static Frame stepString(Str s, char c, Frame rest) {
        switch (s.phase()) {
            case 0 -> {
                if (c == '"') return s.length() >= s.min() ? rest : NO;
                if (c < 0x20 || s.length() >= s.max()) return NO;
                return new Frame(new Str(s.min(), s.max(), s.length() + (c == '\\' ? 0 : 1), c == '\\' ? 1 : 0), rest);
            }
            case 1 -> {
                if (c == 'u') return new Frame(new Str(s.min(), s.max(), s.length(), 5), rest);
                return "\"\\/bfnrt".indexOf(c) >= 0 ? new Frame(new Str(s.min(), s.max(), s.length() + 1, 0), rest) : NO;
            }
            default -> {
                boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                if (!hex) return NO;
                return new Frame(new Str(s.min(), s.max(), s.length() + (s.phase() == 2 ? 1 : 0), s.phase() == 2 ? 0 : s.phase() - 1), rest);
            }
        }
    }

    /**
     * JSON's number automaton. Phases: 0 start, 1 after '-', 2 in integer digits, 3 after a leading 0, 4 after '.',
     * 5 in fraction digits, 6 after 'e', 7 after the exponent's sign, 8 in exponent digits. Returns -1 for a
     * character that cannot come next.
     */
    private static int stepNumber(Num n, char c) {
        boolean digit = c >= '0' && c <= '9';
        boolean fraction = !n.integer();
        return switch (n.phase()) {
            case 0 -> c == '-' ? 1 : c == '0' ? 3 : digit ? 2 : -1;
            case 1 -> c == '0' ? 3 : digit ? 2 : -1;
            case 2 -> digit ? 2 : fraction && c == '.' ? 4 : fraction && (c == 'e' || c == 'E') ? 6 : -1;
            case 3 -> fraction && c == '.' ? 4 : fraction && (c == 'e' || c == 'E') ? 6 : -1;
            case 4, 5 -> digit ? 5 : n.phase() == 5 && (c == 'e' || c == 'E') ? 6 : -1;
            case 6 -> c == '+' || c == '-' ? 7 : digit ? 8 : -1;
            case 7, 8 -> digit ? 8 : -1;
            default -> -1;
        };
    }

    private static boolean numberEnds(int phase) {
        return phase == 2 || phase == 3 || phase == 5 || phase == 8;
    }

    /** A shortest text an item reads to its end. */
    private String shortest(Object item) {
        return switch (item) {
            case Lit l -> l.text().substring(l.pos());
            case Str s -> switch (s.phase()) {
                case 0 -> "a".repeat(Math.max(0, s.min() - s.length())) + "\"";
                case 1 -> "n" + "a".repeat(Math.max(0, s.min() - s.length() - 1)) + "\"";
                default -> "0".repeat(s.phase() - 1) + "a".repeat(Math.max(0, s.min() - s.length() - 1)) + "\"";
            };
            case Num n -> numberEnds(n.phase()) ? "" : "0";
            case Ws w -> "";
            case Grammar g -> {
                String s = shortestOf(g, new java.util.HashSet<>());
                if (s == null) throw new IllegalStateException("the grammar has no finite sentence from " + g);
                yield s;
            }
            default -> throw new IllegalStateException("unknown item " + item);
        };
    }

    /** A shortest sentence of {@code g}, or null when every one goes through a rule being expanded. */
    private String shortestOf(Grammar g, Set<Grammar.Rule> visiting) {
        return switch (g) {
            case Grammar.Literal l -> l.text();
            case Grammar.JsonString s -> "\"" + "a".repeat(s.minLength()) + "\"";
            case Grammar.JsonNumber n -> "0";
            case Grammar.Whitespace w -> "";
            case Grammar.Sequence s -> remember(s, visiting, () -> {
                StringBuilder sb = new StringBuilder();
                for (Grammar x : s.items()) {
                    String part = shortestOf(x, visiting);
                    if (part == null) return null;
                    sb.append(part);
                }
                return sb.toString();
            });
            case Grammar.Choice c -> remember(c, visiting, () -> {
                String best = null;
                for (Grammar o : c.options()) {
                    String s = shortestOf(o, visiting);
                    if (s != null && (best == null || s.length() < best.length())) best = s;
                }
                return best;
            });
            case Grammar.Rule r -> {
                String known = shortest.get(r);
                if (known != null) yield known;
                if (!visiting.add(r)) yield null;
                String s = shortestOf(r.body(), visiting);
                visiting.remove(r);
                if (s != null && visiting.isEmpty()) shortest.put(r, s);
                yield s;
            }
        };
    }

    /**
     * A node's shortest sentence, kept once known. Only an answer found with no rule being expanded is kept: below
     * a rule under expansion, the answer leaves out the sentences through that rule and may not be the shortest.
     */
    private String remember(Grammar g, Set<Grammar.Rule> visiting, java.util.function.Supplier<String> compute) {
        String known = shortest.get(g);
        if (known != null) return known;
        String s = compute.get();
        if (s != null && visiting.isEmpty()) shortest.put(g, s);
        return s;
    }

    /** Equal matchers allow the same characters next, and so the same tokens. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GrammarMatcher m && parses.equals(m.parses);
    }

    @Override
    public int hashCode() {
        return parses.hashCode();
    }

    @Override
    public String toString() {
        List<String> out = new ArrayList<>();
        for (Frame f : parses) out.add(String.valueOf(f));
        return "GrammarMatcher" + out;
    }
}
