package dev.floe.runtime;

import dev.floe.api.ChatMessage;
import dev.floe.api.ModelFormatException;
import dev.floe.api.Tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Stands in for the tokenizer of a model folder without {@code tokenizer.json}: token ids still work, text does not. */
final class MissingTokenizer implements Tokenizer {
    private final Path dir;
    private final int vocab;

    MissingTokenizer(Path dir, int vocab) {
        this.dir = dir;
        this.vocab = vocab;
    }

    private ModelFormatException missing() {
        return new ModelFormatException(dir + ": no tokenizer.json, so only token ids can be used with this model");
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        throw missing();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append('[').append(id).append(']');
        return sb.toString();
    }

    @Override
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder() {
            @Override
            public String next(int id) {
                return "[" + id + "]";
            }

            @Override
            public String flush() {
                return "";
            }
        };
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public String tokenString(int id) {
        return "[" + id + "]";
    }

    @Override
    public OptionalInt tokenId(String token) {
        return OptionalInt.empty();
    }

    @Override
    public boolean isSpecial(int id) {
        return false;
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.empty();
    }

    @Override
    public OptionalInt eosId() {
        return OptionalInt.empty();
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.empty();
    }

    @Override
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        throw missing();
    }
}
