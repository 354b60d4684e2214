package dev.floe.runtime.grammar;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.TokenConstraint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cost of one constrained-decoding mask on a 32k-token vocabulary, per kind of grammar state, run by hand:
 * <pre>
 * java -cp "$(cat /tmp/cp.txt):api/target/classes:runtime/target/classes:runtime/target/test-classes" \
 *      dev.floe.runtime.grammar.GrammarMaskBench [corpus-root=.] [vocab=32000] [rounds=5]
 * </pre>
 * The vocabulary is learned from the repository's own text ({@link SyntheticVocabulary#fromCorpus}). Each state is
 * reached by feeding its text one character a token, then {@code mask} is timed, for each way of finding it (the
 * walk of the whole trie that was the only one before, the fast path on a state's first visit, and the fast path
 * with the masks of recurring states kept), in an order that rotates by round ({@code -DfastOnly=true}: not the
 * whole walk; {@code -Donly=string}: only the states so named).
 */
public final class GrammarMaskBench {
    private static final String SCHEMA = """
            {"type":"object","properties":{"title":{"type":"string","maxLength":200},"year":{"type":"integer"},
             "tags":{"type":"array","items":{"type":"string"}}}}""";

    record State(String name, Grammar grammar, String text, int slack) {
    }

    public static void main(String[] args) throws Exception {
        Path corpus = Path.of(args.length > 0 ? args[0] : ".");
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 32000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        String[] vocab = SyntheticVocabulary.fromCorpus(corpus, size - 1);
        String[] texts = new String[vocab.length + 1];
        System.arraycopy(vocab, 0, texts, 0, vocab.length);
        int eosId = vocab.length; // an end token with no text, as a special token is left out of the trie
        long t0 = System.nanoTime();
        TokenTrie trie = new TokenTrie(texts);
        double buildMs = (System.nanoTime() - t0) / 1e6;
        int quoted = 0;
        for (String t : vocab) if (t.indexOf('"') >= 0 || t.indexOf('\\') >= 0) quoted++;
        System.out.printf(Locale.ROOT, "vocabulary: %d tokens (%d with a quote or backslash), longest %d characters; trie built in %.0f ms%n",
                texts.length, quoted, trie.longest(), buildMs);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.length; i++) ids.putIfAbsent(vocab[i], i);
        BitSet eos = new BitSet();
        eos.set(eosId);

        Grammar object = JsonGrammars.anyObject();
        Grammar schema = JsonGrammars.fromSchema(new ObjectMapper().readTree(SCHEMA));
        List<State> states = List.of(
                new State("object start", object, "", 1000),
                new State("in a key string", object, "{\"ab", 1000),
                new State("value start", object, "{\"a\": ", 1000),
                new State("in a value string", object, "{\"a\": \"hello wor", 1000),
                new State("in a number", object, "{\"a\": 12", 1000),
                new State("after a comma", object, "{\"a\": 1, ", 1000),
                new State("schema: in a string", schema, "{\"title\": \"The wor", 1000),
                new State("schema: string near budget", schema, "{\"title\": \"The wor", 24));
        List<GrammarConstraint.Mode> modes = Boolean.getBoolean("fastOnly") ? List.of(GrammarConstraint.Mode.FAST, GrammarConstraint.Mode.CACHED)
                : List.of(GrammarConstraint.Mode.values());
        Map<String, List<Double>> micros = new HashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (State s : states.stream().filter(x -> x.name().contains(System.getProperty("only", ""))).toList()) for (int mi = 0; mi < modes.size(); mi++) {
                GrammarConstraint.Mode mode = modes.get((mi + round) % modes.size()); // the order rotates by round
                String name = s.name() + " " + mode.name().toLowerCase(Locale.ROOT).replace('_', ' ');
                TokenConstraint.Matcher m = new GrammarConstraint(s.grammar(), trie, eos, s.text().length() + s.slack(), mode).start();
                for (char c : s.text().toCharArray()) m.accept(ids.get(String.valueOf(c)));
                float[] logits = new float[texts.length];
                int n = 0;
                long start = System.nanoTime(), end;
                do {
                    m.mask(logits);
                    n++;
                    end = System.nanoTime();
                } while (end - start < 300_000_000L || n < 3);
                micros.computeIfAbsent(name, k -> new ArrayList<>()).add((end - start) / 1e3 / n);
                int allowed = 0;
                for (float f : logits) if (f != Float.NEGATIVE_INFINITY) allowed++;
                if (round == rounds - 1) {
                    List<Double> all = micros.get(name).stream().sorted().toList();
                    System.out.printf(Locale.ROOT, "%-40s %9.1f us per mask (median of %d rounds; min %.1f, max %.1f), %d tokens allowed%n",
                            name, all.get(all.size() / 2), all.size(), all.getFirst(), all.getLast(), allowed);
                }
            }
        }
    }
}
