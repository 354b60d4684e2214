package dev.floe.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens ({@code <s>}, {@code <|im_start|>}, ...) in text, leftmost-longest like Hugging Face's
 * Aho-Corasick matcher, honouring {@code single_word}, {@code lstrip} and {@code rstrip}.
 */
final class AddedTokens {

    /** One entry of {@code added_tokens}. */
    record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                      boolean special) {}

    /** A span of text: either an added token ({@code tokenId >= 0}) or plain text to be tokenized. */
    record Segment(int start, int end, int tokenId) {}

    private record Candidate(String match, AddedToken token) {}

    private final Map<Character, List<Candidate>> byFirstChar = new HashMap<>();

    /**
     * @param tokens the tokens to find
     * @param matchForm the string to look for per token (the content, or its normalized form)
     */
    AddedTokens(List<AddedToken> tokens, java.util.function.Function<AddedToken, String> matchForm) {
        for (AddedToken t : tokens) {
            String m = matchForm.apply(t);
            if (!m.isEmpty()) {
                byFirstChar.computeIfAbsent(m.charAt(0), k -> new ArrayList<>()).add(new Candidate(m, t));
            }
        }
        byFirstChar.values().forEach(l -> l.sort(Comparator.comparingInt((Candidate c) -> c.match().length()).reversed()));
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Splits text into added-token segments and the text between them (empty text segments are left out). */
    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            out.add(new Segment(0, text.length(), -1));
            return out;
        }
        int textStart = 0;
        int i = 0;
        while (i < text.length()) {
            List<Candidate> cands = byFirstChar.get(text.charAt(i));
            Candidate found = null;
            if (cands != null) {
                for (Candidate c : cands) {
                    if (text.startsWith(c.match(), i) && wordBounded(c, text, i)) {
                        found = c;
                        break;
                    }
                }
            }
            if (found == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + found.match().length();
            if (found.token().lstrip()) {
                while (start > textStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (found.token().rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > textStart) {
                out.add(new Segment(textStart, start, -1));
            }
            out.add(new Segment(start, end, found.token().id()));
            textStart = end;
            i = end;
        }
        if (textStart < text.length()) {
            out.add(new Segment(textStart, text.length(), -1));
        }
        return out;
    }

    private static boolean wordBounded(Candidate c, String text, int at) {
        if (!c.token().singleWord()) {
            return true;
        }
        int end = at + c.match().length();
        boolean before = at == 0 || !isWordChar(text.codePointBefore(at));
        boolean after = end == text.length() || !isWordChar(text.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
