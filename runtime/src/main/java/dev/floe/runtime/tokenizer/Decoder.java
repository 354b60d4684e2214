package dev.floe.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code decoder} of {@code tokenizer.json}. As in Hugging Face, a decoder maps the list of token strings to a
 * new list (some work per token, some across tokens), and the final list is concatenated.
 */
sealed interface Decoder {

    List<String> decodeChain(List<String> tokens);

    default String decode(List<String> tokens) {
        return String.join("", decodeChain(tokens));
    }

    /** Replaces a literal or regex pattern in each token. */
    record Replace(Pattern pattern, String content) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                out.add(JsonAt.replaceAll(pattern, t, content));
            }
            return out;
        }
    }

    /**
     * Turns runs of {@code <0xXX>} tokens into the text their bytes spell; a run that is not valid UTF-8 becomes one
     * U+FFFD per byte, as Hugging Face does.
     */
    record ByteFallback() implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream run = new ByteArrayOutputStream();
            int runTokens = 0;
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    run.write(b);
                    runTokens++;
                    continue;
                }
                if (runTokens > 0) {
                    flush(run, runTokens, out);
                    runTokens = 0;
                }
                out.add(t);
            }
            if (runTokens > 0) {
                flush(run, runTokens, out);
            }
            return out;
        }

        private static void flush(ByteArrayOutputStream run, int count, List<String> out) {
            byte[] bytes = run.toByteArray();
            run.reset();
            try {
                out.add(StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString());
            } catch (CharacterCodingException e) {
                for (int i = 0; i < count; i++) {
                    out.add("\uFFFD");
                }
            }
        }

        /** The byte of a {@code <0xXX>} token, or -1. */
        static int byteOf(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
                return -1;
            }
            int hi = Character.digit(t.charAt(3), 16);
            int lo = Character.digit(t.charAt(4), 16);
            return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
        }
    }

    /** Concatenates all tokens into one. */
    record Fuse() implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing occurrences of a character from each token. */
    record Strip(int content, int start, int stop) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int from = 0;
                for (int k = 0; k < start && from < t.length() && t.codePointAt(from) == content; k++) {
                    from += Character.charCount(content);
                }
                int to = t.length();
                for (int k = 0; k < stop && to > from && t.codePointBefore(to) == content; k++) {
                    to -= Character.charCount(content);
                }
                out.add(t.substring(from, to));
            }
            return out;
        }
    }

    /** Metaspace: {@code ▁} back to spaces, dropping the space the pre-tokenizer prepended to the first token. */
    record Metaspace(int replacement, PreTokenizer.PrependScheme scheme) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            String rep = Character.toString(replacement);
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i).replace(rep, " ");
                if (i == 0 && scheme != PreTokenizer.PrependScheme.NEVER && t.startsWith(" ")) {
                    t = t.substring(1);
                }
                out.add(t);
            }
            return out;
        }
    }

    /** GPT-2 byte-level characters back to bytes, then to text. */
    record ByteLevel() implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            return List.of(ByteLevelAlphabet.decode(String.join("", tokens)));
        }
    }

    /** Drops a word-piece continuation prefix and joins words with spaces. */
    record WordPiece(String prefix, boolean cleanup) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                out.add(i > 0 && t.startsWith(prefix) ? t.substring(prefix.length()) : i > 0 ? " " + t : t);
            }
            return out;
        }
    }

    /** Replaces an end-of-word suffix with a space (the last token's suffix with nothing). */
    record BpeSuffix(String suffix) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
            }
            return out;
        }
    }

    record Sequence(List<Decoder> decoders) implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) {
                tokens = d.decodeChain(tokens);
            }
            return tokens;
        }
    }

    /** No decoder: tokens joined by spaces, as Hugging Face does when {@code decoder} is null. */
    record None() implements Decoder {
        @Override public List<String> decodeChain(List<String> tokens) {
            return tokens;
        }

        @Override public String decode(List<String> tokens) {
            return String.join(" ", tokens);
        }
    }

    static Decoder parse(JsonAt json) {
        String type = json.text("type");
        return switch (type) {
            case "Replace" -> new Replace(json.get("pattern").pattern(), json.text("content"));
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> new Strip(json.codePoint("content", ' '), json.integer("start", 0), json.integer("stop", 0));
            case "Metaspace" -> new Metaspace(json.codePoint("replacement", '▁'), PreTokenizer.scheme(json));
            case "ByteLevel" -> new ByteLevel();
            case "WordPiece" -> new WordPiece(json.text("prefix", "##"), json.bool("cleanup", true));
            case "BPEDecoder" -> new BpeSuffix(json.text("suffix", "</w>"));
            case "Sequence" -> new Sequence(json.elements("decoders").stream().map(Decoder::parse).toList());
            default -> throw json.get("type").error("unsupported decoder type");
        };
    }
}
