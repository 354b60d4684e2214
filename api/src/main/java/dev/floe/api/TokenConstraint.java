package dev.floe.api;

/**
 * Limits which tokens may come next, so that the output follows a grammar (for example valid JSON, or JSON that
 * matches a schema), as llama.cpp's grammars and vLLM's guided decoding do. The request holds the constraint; each
 * sequence generated from it gets its own {@link Matcher}.
 */
@FunctionalInterface
public interface TokenConstraint {
    /** A fresh matcher at the start of the output. */
    Matcher start();

    /** The state of one sequence's output. Used from one thread at a time. */
    interface Matcher {
        /**
         * Sets the logit of every token that may not come next to negative infinity. End-of-sequence tokens stay
         * allowed only where the output is complete; where only they are allowed, the output is done.
         */
        void mask(float[] logits);

        /** Advances past the chosen token. */
        void accept(int token);
    }
}
