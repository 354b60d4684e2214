package dev.floe.runtime.grammar;

import dev.floe.api.ModelConfig;
import dev.floe.api.TokenConstraint;
import dev.floe.api.Tokenizer;

import java.util.BitSet;

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

    /**
     * @param maxTokens the most tokens the output may have: the constraint closes the grammar within them
     */
    public GrammarConstraint(Grammar grammar, Tokenizer tokenizer, ModelConfig config, int maxTokens) {
        this(grammar, TokenTrie.of(tokenizer), eosIds(tokenizer, config), maxTokens);
    }

    GrammarConstraint(Grammar grammar, TokenTrie vocabulary, BitSet eos, int maxTokens) {
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
                if (state.canContinue()) {
                    if (left <= completion.length()) {
                        vocabulary.prefixesOf(completion, allowed);
                    } else if (left - 1 >= completion.length() + 2 * vocabulary.longest() + 2) {
                        vocabulary.allowed(state, allowed, null); // no token can take the end out of reach
                    } else {
                        vocabulary.allowed(state, allowed, after -> after.shortestCompletion().length() <= left - 1);
                    }
                }
                allowed.andNot(eos); // an end token whose text the grammar could read still ends the output
                if (state.complete() || allowed.isEmpty()) allowed.or(eos);
                return allowed;
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
