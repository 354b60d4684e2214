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
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = new WeakHashMap<>();

    private final Node root = new Node();
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
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            if (t == null || t.isEmpty()) continue;
            Node n = root;
            for (int i = 0; i < t.length(); i++) n = n.child(t.charAt(i), true);
            n.tokens = Arrays.copyOf(n.tokens, n.tokens.length + 1);
            n.tokens[n.tokens.length - 1] = id;
            max = Math.max(max, t.length());
        }
        this.longest = max;
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

    /** Marks in {@code allowed} every token whose whole text {@code matcher} can read; {@code keep} may veto a token by the matcher after it. */
    public void allowed(GrammarMatcher matcher, BitSet allowed, Predicate<GrammarMatcher> keep) {
        walk(root, matcher, allowed, keep);
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
