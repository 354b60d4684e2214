package dev.floe.runtime.tokenizer;

import dev.floe.api.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Incremental decoding that always agrees with batch decoding. It keeps a short window of ids: the context (ids
 * already emitted, kept so that position-dependent decoders such as Strip and Metaspace see the new ids in the
 * middle of a text rather than at its start) followed by the pending ids. Each step decodes the window and emits
 * what extends the decoded context. Text ending in U+FFFD is held back: a byte-fallback sequence may be incomplete.
 * After an emission the context shrinks to the shortest tail of the window that still decodes to non-empty text,
 * so each step costs O(window), not O(text so far).
 */
final class StreamDecoder implements Tokenizer.StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final HfTokenizer tokenizer;
    private final boolean skipSpecial;
    private final List<Integer> window = new ArrayList<>();
    private String contextText;

    StreamDecoder(HfTokenizer tokenizer, boolean skipSpecial, int[] context) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
        for (int id : context) {
            window.add(id);
        }
        contextText = tokenizer.decode(window, skipSpecial);
        if (!window.isEmpty()) {
            shrinkContext();
        }
    }

    @Override public String next(int id) {
        tokenizer.tokenString(id); // rejects an id outside the vocabulary before it enters the window
        window.add(id);
        String text = tokenizer.decode(window, skipSpecial);
        if (!text.isEmpty() && text.charAt(text.length() - 1) == REPLACEMENT) {
            return ""; // possibly an incomplete UTF-8 sequence: wait for more bytes
        }
        String out = suffix(text);
        contextText = text;
        shrinkContext();
        return out;
    }

    @Override public String flush() {
        String text = tokenizer.decode(window, skipSpecial);
        String out = suffix(text);
        contextText = text;
        shrinkContext();
        return out;
    }

    /** What {@code text} adds to the decoded context. */
    private String suffix(String text) {
        if (text.startsWith(contextText)) {
            return text.substring(contextText.length());
        }
        // A decoder rewrote earlier text; emit from the first difference (cannot retract what was already sent).
        int common = 0;
        int max = Math.min(text.length(), contextText.length());
        while (common < max && text.charAt(common) == contextText.charAt(common)) {
            common++;
        }
        return text.substring(common);
    }

    /** Keeps the shortest tail of the window that decodes to non-empty text as the context. */
    private void shrinkContext() {
        for (int from = window.size() - 1; from > 0; from--) {
            String tail = tokenizer.decode(window.subList(from, window.size()), skipSpecial);
            if (!tail.isEmpty() && tail.charAt(tail.length() - 1) != REPLACEMENT) {
                window.subList(0, from).clear();
                        contextText = tail;
                return;
            }
        }
    }
}
