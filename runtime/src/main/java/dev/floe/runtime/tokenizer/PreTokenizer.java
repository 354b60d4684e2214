package dev.floe.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of {@code tokenizer.json}: cuts normalized text into words that the model encodes
 * independently.
 */
sealed interface PreTokenizer {

    /**
     * A piece of text. {@code atStart} says that it begins at offset 0 of the original input, which Metaspace's
     * {@code prepend_scheme: first} depends on.
     */
    record Piece(String text, boolean atStart) {}

    /** Splits one piece into (non-empty) pieces. */
    List<Piece> split(Piece piece);

    default List<Piece> splitAll(List<Piece> pieces) {
        List<Piece> out = new ArrayList<>(pieces.size() * 2);
        for (Piece p : pieces) {
            for (Piece q : split(p)) {
                if (!q.text().isEmpty()) {
                    out.add(q);
                }
            }
        }
        return out;
    }

    /** How the delimiters found by a pattern are kept, as the Hugging Face enum of the same name. */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

        static Behavior parse(JsonAt json) {
            return switch (json.text()) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw json.error("unknown split behavior");
            };
        }
    }

    /** Splits on a pattern (regex or literal string), keeping delimiters as {@code behavior} says. */
    record Split(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override public List<Piece> split(Piece piece) {
            return splitOn(piece, pattern, behavior, invert);
        }
    }

    /** SentencePiece style: spaces become {@code ▁}, a {@code ▁} may be prepended, words begin at each {@code ▁}. */
    record Metaspace(int replacement, PrependScheme scheme, boolean splitWords) implements PreTokenizer {
        @Override public List<Piece> split(Piece piece) {
            String rep = Character.toString(replacement);
            String text = piece.text().replace(" ", rep);
            boolean prepend = switch (scheme) {
                case ALWAYS -> true;
                case FIRST -> piece.atStart();
                case NEVER -> false;
            };
            if (prepend && !text.startsWith(rep)) {
                text = rep + text;
            }
            Piece replaced = new Piece(text, piece.atStart());
            return splitWords
                    ? splitOn(replaced, Pattern.compile(Pattern.quote(rep)), Behavior.MERGED_WITH_NEXT, false)
                    : List.of(replaced);
        }
    }

    enum PrependScheme {
        ALWAYS, FIRST, NEVER
    }

    /** GPT-2 style: optional prefix space, the GPT-2 word regex, then every UTF-8 byte mapped to a printable char. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        static final Pattern GPT2 = Pattern.compile(
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                Pattern.UNICODE_CHARACTER_CLASS);

        @Override public List<Piece> split(Piece piece) {
            String text = piece.text();
            if (addPrefixSpace && !text.startsWith(" ")) {
                text = " " + text;
            }
            List<Piece> words = useRegex
                    ? splitOn(new Piece(text, piece.atStart()), GPT2, Behavior.ISOLATED, false)
                    : List.of(new Piece(text, piece.atStart()));
            List<Piece> out = new ArrayList<>(words.size());
            for (Piece w : words) {
                out.add(new Piece(ByteLevelAlphabet.encode(w.text()), w.atStart()));
            }
            return out;
        }
    }

    /** Words of word characters and runs of punctuation; whitespace is dropped. */
    record Whitespace() implements PreTokenizer {
        private static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

        @Override public List<Piece> split(Piece piece) {
            return splitOn(piece, WORDS, Behavior.REMOVED, true);
        }
    }

    /** Splits on whitespace, dropping it. */
    record WhitespaceSplit() implements PreTokenizer {
        private static final Pattern SPACES = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

        @Override public List<Piece> split(Piece piece) {
            return splitOn(piece, SPACES, Behavior.REMOVED, false);
        }
    }

    /** Splits each digit (or run of digits) from the rest. */
    record Digits(boolean individual) implements PreTokenizer {
        private static final Pattern ONE = Pattern.compile("\\p{Nd}", Pattern.UNICODE_CHARACTER_CLASS);
        private static final Pattern RUN = Pattern.compile("\\p{Nd}+", Pattern.UNICODE_CHARACTER_CLASS);

        @Override public List<Piece> split(Piece piece) {
            return splitOn(piece, individual ? ONE : RUN, Behavior.ISOLATED, false);
        }
    }

    record Sequence(List<PreTokenizer> preTokenizers) implements PreTokenizer {
        @Override public List<Piece> split(Piece piece) {
            List<Piece> pieces = List.of(piece);
            for (PreTokenizer p : preTokenizers) {
                pieces = p.splitAll(pieces);
            }
            return pieces;
        }
    }

    /**
     * The Hugging Face split algorithm: the text is partitioned into matches and non-matches (flipped by
     * {@code invert}), then matches are removed, isolated or merged with a neighbour.
     */
    static List<Piece> splitOn(Piece piece, Pattern pattern, Behavior behavior, boolean invert) {
        String text = piece.text();
        // Partition into [start, end, isMatch] segments covering the text.
        List<int[]> segments = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int prev = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue; // an empty match delimits nothing
            }
            if (m.start() > prev) {
                segments.add(new int[] {prev, m.start(), invert ? 1 : 0});
            }
            segments.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
            prev = m.end();
        }
        if (prev < text.length()) {
            segments.add(new int[] {prev, text.length(), invert ? 1 : 0});
        }

        List<int[]> spans = new ArrayList<>(segments.size());
        switch (behavior) {
            case ISOLATED -> spans.addAll(segments);
            case REMOVED -> segments.stream().filter(s -> s[2] == 0).forEach(spans::add);
            case CONTIGUOUS -> {
                int previous = -1;
                for (int[] s : segments) {
                    if (s[2] == previous && !spans.isEmpty()) {
                        spans.getLast()[1] = s[1];
                    } else {
                        spans.add(s.clone());
                    }
                    previous = s[2];
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previousMatch = false;
                for (int[] s : segments) {
                    if (s[2] == 1 && !previousMatch && !spans.isEmpty()) {
                        spans.getLast()[1] = s[1];
                    } else {
                        spans.add(s.clone());
                    }
                    previousMatch = s[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean previousMatch = false;
                List<int[]> reversed = new ArrayList<>();
                for (int i = segments.size() - 1; i >= 0; i--) {
                    int[] s = segments.get(i);
                    if (s[2] == 1 && !previousMatch && !reversed.isEmpty()) {
                        reversed.getLast()[0] = s[0];
                    } else {
                        reversed.add(s.clone());
                    }
                    previousMatch = s[2] == 1;
                }
                spans.addAll(reversed.reversed());
            }
        }
        List<Piece> out = new ArrayList<>(spans.size());
        for (int[] s : spans) {
            if (s[1] > s[0]) {
                out.add(new Piece(text.substring(s[0], s[1]), piece.atStart() && s[0] == 0));
            }
        }
        return out;
    }

    static PreTokenizer parse(JsonAt json) {
        String type = json.text("type");
        return switch (type) {
            case "Split" -> new Split(json.get("pattern").pattern(), Behavior.parse(json.get("behavior")),
                    json.bool("invert", false));
            case "Metaspace" -> new Metaspace(json.codePoint("replacement", '▁'), scheme(json), json.bool("split", true));
            case "ByteLevel" -> new ByteLevel(json.bool("add_prefix_space", true), json.bool("use_regex", true));
            case "Whitespace" -> new Whitespace();
            case "WhitespaceSplit" -> new WhitespaceSplit();
            case "Digits" -> new Digits(json.bool("individual_digits", false));
            case "Sequence" -> new Sequence(json.elements("pretokenizers").stream().map(PreTokenizer::parse).toList());
            default -> throw json.get("type").error("unsupported pre_tokenizer type");
        };
    }

    /** {@code prepend_scheme}, or the older {@code add_prefix_space} flag it replaced. */
    static PrependScheme scheme(JsonAt json) {
        if (json.has("prepend_scheme")) {
            JsonAt s = json.get("prepend_scheme");
            return switch (s.text().toLowerCase(Locale.ROOT)) {
                case "always" -> PrependScheme.ALWAYS;
                case "first" -> PrependScheme.FIRST;
                case "never" -> PrependScheme.NEVER;
                default -> throw s.error("unknown prepend_scheme (expected always, first or never)");
            };
        }
        return json.bool("add_prefix_space", true) ? PrependScheme.ALWAYS : PrependScheme.NEVER;
    }
}
