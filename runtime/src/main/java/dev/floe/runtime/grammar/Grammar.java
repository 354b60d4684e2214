package dev.floe.runtime.grammar;

import java.util.List;

/**
 * A context-free grammar over characters, small enough to write JSON and JSON-schema grammars with: literals, JSON
 * strings and numbers, bounded whitespace, sequences, alternatives and named (possibly recursive) rules. A
 * {@link GrammarMatcher} follows it one character at a time.
 */
public sealed interface Grammar {
    /** Exactly {@code text}. */
    record Literal(String text) implements Grammar {
    }

    /** A JSON string, quotes included, of {@code minLength} to {@code maxLength} characters (an escape counts as one). */
    record JsonString(int minLength, int maxLength) implements Grammar {
    }

    /** A JSON number; only an integer when {@code integer}. */
    record JsonNumber(boolean integer) implements Grammar {
    }

    /** Optional whitespace: at most {@link GrammarMatcher#MAX_WHITESPACE} characters, so output cannot idle forever. */
    record Whitespace() implements Grammar {
    }

    record Sequence(List<Grammar> items) implements Grammar {
        public Sequence {
            items = List.copyOf(items);
        }
    }

    record Choice(List<Grammar> options) implements Grammar {
        public Choice {
            options = List.copyOf(options);
            if (options.isEmpty()) throw new IllegalArgumentException("a choice needs at least one option");
        }
    }

    /** A named rule whose body is set after creation, so rules may refer to themselves. */
    final class Rule implements Grammar {
        private final String name;
        private Grammar body;

        public Rule(String name) {
            this.name = name;
        }

        public Rule define(Grammar g) {
            if (body != null) throw new IllegalStateException("rule " + name + " is already defined");
            body = g;
            return this;
        }

        Grammar body() {
            if (body == null) throw new IllegalStateException("rule " + name + " is used but never defined");
            return body;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    Grammar EMPTY = new Sequence(List.of());
    Grammar WS = new Whitespace();

    static Grammar lit(String text) {
        return new Literal(text);
    }

    static Grammar seq(Grammar... items) {
        return new Sequence(List.of(items));
    }

    static Grammar choice(Grammar... options) {
        return new Choice(List.of(options));
    }
}
