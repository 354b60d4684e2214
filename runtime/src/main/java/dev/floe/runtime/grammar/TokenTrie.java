package dev.floe.runtime.grammar;

import dev.floe.api.Tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Predicate;

/**
 * A vocabulary's token texts in a prefix tree, so that the tokens a grammar allows next are found by one walk that
 * shares the work of common prefixes. A token's text is how it reads in the middle of a text (a SentencePiece token
 * keeps its leading space). Special tokens, and tokens that are pieces of a multi-byte character, are left out:
 * constrained output is made of whole characters.
 *
 * <p>Inside a JSON string nearly every token may come next, so a walk of the whole trie there would visit every
 * token. Instead the trie keeps the tokens made only of characters that read the same anywhere in a string (no
 * quote, backslash or control character) as precomputed sets by length: one matcher step per length decides a whole
 * set, and only the other tokens, kept in a second, much smaller trie, are walked. Elsewhere the walk looks up only
 * the few characters the grammar allows next among a node's children.
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = new WeakHashMap<>();

    private final Node root = new Node();
    /** The tokens with a character that is not plain in a string, for the walk from inside a string. */
    private final Node special = new Node();
    /** By length, the tokens made only of characters plain in a string; null where there is none. */
    private final BitSet[] plainByLength;
    /** By length, the text of one token of {@link #plainByLength}. */
    private final String[] plainSample;
    private final String[] texts;
    private final int longest;

    private static final class Node {
        char[] labels = new char[0];
        Node[] children = new Node[0];
        int[] tokens = new int[0];

        Node child(char c, boolean create) {
            int i = Arrays.binarySearch(labels, c);
            if (i >= 0) return children[i];
            if (!create) return null;
            i = -i - 1;
            Node n = new Node();
            labels = insert(labels, i, c);
            Node[] grown = new Node[children.length + 1];
            System.arraycopy(children, 0, grown, 0, i);
            grown[i] = n;
            System.arraycopy(children, i, grown, i + 1, children.length - i);
            children = grown;
            return n;
        }

        private static char[] insert(char[] a, int i, char c) {
            char[] out = new char[a.length + 1];
            System.arraycopy(a, 0, out, 0, i);
            out[i] = c;
            System.arraycopy(a, i, out, i + 1, a.length - i);
            return out;
        }
    }

    /** A trie of {@code texts} by token id; null or empty texts are left out. */
    public TokenTrie(String[] texts) {
        this.texts = texts.clone();
        int max = 0;
        for (String t : texts) if (t != null) max = Math.max(max, t.length());
        this.longest = max;
        this.plainByLength = new BitSet[max + 1];
        this.plainSample = new String[max + 1];
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            if (t == null || t.isEmpty()) continue;
            insert(root, t, id);
            if (t.chars().allMatch(c -> GrammarMatcher.plainInString((char) c))) {
                if (plainByLength[t.length()] == null) {
                    plainByLength[t.length()] = new BitSet();
                    plainSample[t.length()] = t;
                }
                plainByLength[t.length()].set(id);
            } else {
                insert(special, t, id);
            }
        }
    }

    private static void insert(Node root, String text, int id) {
        Node n = root;
        for (int i = 0; i < text.length(); i++) n = n.child(text.charAt(i), true);
        n.tokens = Arrays.copyOf(n.tokens, n.tokens.length + 1);
        n.tokens[n.tokens.length - 1] = id;
    }

    /** The trie of a tokenizer's vocabulary, built once per tokenizer. */
    public static TokenTrie of(Tokenizer tokenizer) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tokenizer, TokenTrie::build);
        }
    }

    private static TokenTrie build(Tokenizer tokenizer) {
        int[] context = tokenizer.encode("a", false);
        String[] texts = new String[tokenizer.vocabSize()];
        for (int id = 0; id < texts.length; id++) {
            if (tokenizer.isSpecial(id)) continue;
            Tokenizer.StreamingDecoder d = tokenizer.streamingDecoder(false, context);
            String t = d.next(id) + d.flush();
            if (t.indexOf('\uFFFD') < 0) texts[id] = t;
        }
        return new TokenTrie(texts);
    }

    /** The text of a token, or null when it is left out. */
    public String text(int id) {
        return id >= 0 && id < texts.length ? texts[id] : null;
    }

    /** The length of the longest token text. */
    public int longest() {
        return longest;
    }

    /**
     * Marks in {@code allowed} every token whose whole text {@code matcher} can read; {@code keep} may veto a token
     * by the matcher after it.
     */
    public void allowed(GrammarMatcher matcher, BitSet allowed, Predicate<GrammarMatcher> keep) {
        if (!matcher.inPlainString()) {
            prunedWalk(root, matcher, allowed, keep);
            return;
        }
        // every plain token of one length leads to the same matcher: one step (of at most `longest` characters) per length
        for (int length = 1; length < plainByLength.length; length++) {
            if (plainByLength[length] == null) continue;
            GrammarMatcher after = matcher.advance(plainSample[length]);
            if (after == null) break; // the strings have no room for this many characters, nor for more
            if (keep == null || keep.test(after)) allowed.or(plainByLength[length]);
        }
        prunedWalk(special, matcher, allowed, keep);
    }

    /** The walk of every child of every node the grammar reaches; {@link #allowed} must mark exactly what this marks. */
    void allowedByFullWalk(GrammarMatcher matcher, BitSet allowed, Predicate<GrammarMatcher> keep) {
        walk(root, matcher, allowed, keep);
    }

    /**
     * A walk that, at a node with many children, tries only those whose character the grammar allows next, where it
     * says which (a failed step costs little, so a node with few children tries them all).
     */
    private static void prunedWalk(Node node, GrammarMatcher m, BitSet allowed, Predicate<GrammarMatcher> keep) {
        char[] next = node.labels.length > 8 ? m.nextChars() : null;
        if (next == null) {
            for (int i = 0; i < node.labels.length; i++) visit(node.children[i], m.advance(node.labels[i]), allowed, keep);
            return;
        }
        for (char c : next) {
            int i = Arrays.binarySearch(node.labels, c);
            if (i >= 0) visit(node.children[i], m.advance(c), allowed, keep);
        }
    }

    private static void visit(Node child, GrammarMatcher next, BitSet allowed, Predicate<GrammarMatcher> keep) {
        if (next == null) return;
        if (child.tokens.length > 0 && (keep == null || keep.test(next))) for (int id : child.tokens) allowed.set(id);
        prunedWalk(child, next, allowed, keep);
    }

    private static void walk(Node node, GrammarMatcher m, BitSet allowed, Predicate<GrammarMatcher> keep) {
        for (int i = 0; i < node.labels.length; i++) {
            GrammarMatcher next = m.advance(node.labels[i]);
            if (next == null) continue;
            Node child = node.children[i];
            if (child.tokens.length > 0 && (keep == null || keep.test(next))) for (int id : child.tokens) allowed.set(id);
            walk(child, next, allowed, keep);
        }
    }

    /** Marks the tokens whose text is a prefix of {@code text} (each would read a first part of it). */
    public void prefixesOf(String text, BitSet allowed) {
        Node n = root;
        for (int i = 0; i < text.length() && n != null; i++) {
            n = n.child(text.charAt(i), false);
            if (n != null) for (int id : n.tokens) allowed.set(id);
        }
    }
}
