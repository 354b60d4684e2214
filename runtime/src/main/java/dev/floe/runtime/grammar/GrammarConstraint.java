package dev.floe.runtime.grammar;

import dev.floe.api.ModelConfig;
import dev.floe.api.TokenConstraint;
import dev.floe.api.Tokenizer;

import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Constrained decoding: each step, the tokens whose text the {@link Grammar} cannot read next are masked out, as
 * llama.cpp's grammars and vLLM's guided decoding do. End-of-sequence is allowed only once the output is a whole
 * sentence of the grammar, and it is the only choice once nothing else can follow. So that {@code max_tokens} does
 * not cut the output short, the constraint keeps every step within reach of an end: when the tokens left are about
 * as many as the characters of the shortest completion, only tokens that read a first part of that completion are
 * allowed.
 */
public final class GrammarConstraint implements TokenConstraint {
    private final Grammar grammar;
    private final TokenTrie vocabulary;
    private final BitSet eos = new BitSet();
    private final int maxTokens;
    private final Mode mode;
    /**
     * The tokens allowed in a state, for the states where the budget does not restrict them: structural states
     * (after a comma, where a value starts) recur all through an output and cost a walk each.
     */
    private final Map<GrammarMatcher, BitSet> masks = new ConcurrentHashMap<>();
    /** Most states kept in {@link #masks} (4 KB each on a 32k vocabulary); it is emptied when full. */
    private static final int MAX_CACHED = 256;

    /** How the mask is found: the fast walk with its masks kept, without, or the walk of the whole trie (a reference). */
    enum Mode { CACHED, FAST, FULL_WALK }

    /**
     * @param maxTokens the most tokens the output may have: the constraint closes the grammar within them
     */
    public GrammarConstraint(Grammar grammar, Tokenizer tokenizer, ModelConfig config, int maxTokens) {
        this(grammar, TokenTrie.of(tokenizer), eosIds(tokenizer, config), maxTokens);
    }

    GrammarConstraint(Grammar grammar, TokenTrie vocabulary, BitSet eos, int maxTokens) {
        this(grammar, vocabulary, eos, maxTokens, Mode.CACHED);
    }

    GrammarConstraint(Grammar grammar, TokenTrie vocabulary, BitSet eos, int maxTokens, Mode mode) {
        this.mode = mode;
        this.grammar = grammar;
        this.vocabulary = vocabulary;
        this.eos.or(eos);
        this.maxTokens = maxTokens;
        GrammarMatcher.start(grammar).shortestCompletion(); // a grammar with no finite sentence fails here, not mid-request
    }

    private static BitSet eosIds(Tokenizer tokenizer, ModelConfig config) {
        BitSet eos = new BitSet();
        for (int id = 0; id < config.vocabSize(); id++) if (config.isEos(id)) eos.set(id);
        tokenizer.eosId().ifPresent(eos::set);
        return eos;
    }

    @Override
    public Matcher start() {
        return new Matcher() {
            private GrammarMatcher state = GrammarMatcher.start(grammar);
            private int generated;

            @Override
            public void mask(float[] logits) {
                BitSet allowed = allowedTokens();
                for (int i = allowed.nextClearBit(0); i < logits.length; i = allowed.nextClearBit(i + 1)) {
                    logits[i] = Float.NEGATIVE_INFINITY;
                }
            }

            private BitSet allowedTokens() {
                BitSet allowed = new BitSet();
                if (state == null) { // cannot happen while the mask is obeyed: end the output
                    allowed.or(eos);
                    return allowed;
                }
                int left = maxTokens - generated; // tokens left, this one included
                String completion = state.shortestCompletion();
                boolean unrestricted = left - 1 >= completion.length() + 2 * vocabulary.longest() + 2; // no token can take the end out of reach
                if (unrestricted && mode == Mode.CACHED) {
                    BitSet known = masks.get(state);
                    if (known != null) return known;
                }
                if (state.canContinue()) {
                    if (left <= completion.length()) {
                        vocabulary.prefixesOf(completion, allowed);
                    } else if (unrestricted) {
                        walk(allowed, null);
                    } else {
                        walk(allowed, after -> after.shortestCompletion().length() <= left - 1);
                    }
                }
                allowed.andNot(eos); // an end token whose text the grammar could read still ends the output
                if (state.complete() || allowed.isEmpty()) allowed.or(eos);
                if (unrestricted && mode == Mode.CACHED && !state.inPlainString()) { // a string's states rarely recur
                    if (masks.size() >= MAX_CACHED) masks.clear();
                    masks.put(state, allowed);
                }
                return allowed;
            }

            private void walk(BitSet allowed, java.util.function.Predicate<GrammarMatcher> keep) {
                if (mode == Mode.FULL_WALK) vocabulary.allowedByFullWalk(state, allowed, keep);
                else vocabulary.allowed(state, allowed, keep);
            }

            @Override
            public void accept(int token) {
                generated++;
                if (eos.get(token) || state == null) return;
                String text = vocabulary.text(token);
                state = text == null ? null : state.advance(text);
            }
        };
    }
}
