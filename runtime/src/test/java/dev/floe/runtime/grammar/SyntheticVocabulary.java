package dev.floe.runtime.grammar;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Vocabularies for the grammar's tests and benchmark. {@link #fromCorpus} imitates a byte-level BPE vocabulary of
 * a given size (GPT-2's pre-tokenizer, then the most frequent pieces and their prefixes, as BPE merges build them),
 * so that its shape (word tokens with a leading space, runs of spaces, punctuation clusters with quotes) is a real
 * one's; {@link #random} draws short texts rich in JSON's special characters, for property tests.
 */
final class SyntheticVocabulary {
    private static final Pattern PIECES = Pattern.compile(" ?\\p{L}+| ?\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private SyntheticVocabulary() {
    }

    /** About {@code size} token texts learned from the text files under {@code root} (".md", ".java", ".json"). */
    static String[] fromCorpus(Path root, int size) {
        Map<String, Long> counts = new HashMap<>();
        Set<String> chars = new LinkedHashSet<>();
        for (char c = ' '; c < 127; c++) chars.add(String.valueOf(c));
        chars.addAll(List.of("\n", "\t"));
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().matches(".*\\.(md|java|json)$") && !p.toString().contains("/target/")).sorted().toList()) {
                String text = Files.readString(f);
                if (text.length() > 2_000_000) continue;
                Matcher m = PIECES.matcher(text);
                while (m.find()) {
                    String piece = m.group();
                    // every prefix counts: BPE builds a long token out of shorter ones that it also keeps
                    for (int end = 2; end <= Math.min(piece.length(), 24); end++) counts.merge(piece.substring(0, end), 1L, Long::sum);
                }
                text.codePoints().filter(cp -> cp < 0x3000).forEach(cp -> chars.add(Character.toString(cp)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> vocab = new ArrayList<>(chars);
        counts.entrySet().stream().filter(e -> e.getValue() > 1)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(Math.max(0, size - vocab.size()))
                .forEach(e -> vocab.add(e.getKey()));
        vocab.sort(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()));
        return vocab.toArray(String[]::new);
    }

    /** {@code size} random texts of 1 to 6 characters, a third of them with a quote, a backslash or a control character. */
    static String[] random(long seed, int size) {
        String alphabet = "\"\\{}[]:,. \n\t-+0123456789eEabfnrtuxyzé\u0001";
        SplittableRandom random = new SplittableRandom(seed);
        Set<String> texts = new LinkedHashSet<>();
        for (char c = ' '; c < 127; c++) texts.add(String.valueOf(c));
        while (texts.size() < size) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + random.nextInt(6);
            for (int i = 0; i < n; i++) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            texts.add(sb.toString());
        }
        return texts.toArray(String[]::new);
    }
}
